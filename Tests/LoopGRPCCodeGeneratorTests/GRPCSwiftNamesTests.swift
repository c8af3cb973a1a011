import Testing
import LoopGRPCCodeGenerator

/// How `.proto` names become Swift names.
@Suite struct GRPCSwiftNamesTests {
    @Test(arguments: [
        ("UnaryCall", "unaryCall"),
        ("EmptyCall", "emptyCall"),
        ("FullDuplexCall", "fullDuplexCall"),
        ("SayHello", "sayHello"),
        ("sayHello", "sayHello"),
        ("Check", "check"),
        ("X", "x"),
        ("URL", "url"),
        ("HTTPGet", "httpGet"),
        ("GetURL", "getURL"),
        ("OAuth2Token", "oAuth2Token"),
        ("V2Call", "v2Call"),
        ("get_user", "getUser"),
        ("Get_User_Info", "getUserInfo"),
        ("_private", "private"),
        ("Return", "return"),
    ])
    func methodNamesInLowerCamelCase(name: String, expected: String) {
        #expect(GRPCSwiftNames.lowerCamelCase(name) == expected)
    }

    @Test(arguments: [
        ("return", "`return`"),
        ("default", "`default`"),
        ("init", "`init`"),
        ("self", "`self`"),
        ("func", "`func`"),
        ("in", "`in`"),
        ("get", "get"),
        ("async", "async"),
        ("unaryCall", "unaryCall"),
    ])
    func keywordsGetBackticks(identifier: String, expected: String) {
        #expect(GRPCSwiftNames.escapedIdentifier(identifier) == expected)
    }

    @Test func methodIdentifiersCombineBoth() {
        let method = GRPCMethodDescription(name: "Default", inputType: "In", outputType: "Out")
        #expect(method.swiftName == "default")
        #expect(method.swiftIdentifier == "`default`")
        let plain = GRPCMethodDescription(name: "UnaryCall", inputType: "In", outputType: "Out")
        #expect(plain.swiftIdentifier == "unaryCall")
    }

    @Test(arguments: [
        ("grpc.testing", "Grpc_Testing_"),
        ("grpc.health.v1", "Grpc_Health_V1_"),
        ("helloworld", "Helloworld_"),
        ("my_pkg.v1", "MyPkg_V1_"),
        ("loop.echo.v1", "Loop_Echo_V1_"),
        ("3d.x", "_3d_X_"),
        ("", ""),
    ])
    func typePrefixesMatchProtocGenSwift(package: String, expected: String) {
        #expect(GRPCSwiftNames.typePrefix(protoPackage: package) == expected)
    }

    @Test func typeNamesStartUpperCase() {
        #expect(GRPCSwiftNames.typeName("Greeter") == "Greeter")
        #expect(GRPCSwiftNames.typeName("greeter") == "Greeter")
        #expect(GRPCSwiftNames.typeName("") == "")
    }
}
