import Testing
import LoopGRPCCodeGenerator

/// What the model derives: full names, paths, Swift type names, kinds, visibility options.
@Suite struct GRPCModelTests {
    @Test func serviceWithPackage() {
        let service = GRPCServiceDescription(
            name: "TestService",
            protoPackage: "grpc.testing",
            methods: [GRPCMethodDescription(name: "UnaryCall", inputType: "In", outputType: "Out")]
        )
        #expect(service.fullName == "grpc.testing.TestService")
        #expect(service.swiftPrefix == "Grpc_Testing_")
        #expect(service.methodsEnumName == "Grpc_Testing_TestServiceMethods")
        #expect(service.providerName == "Grpc_Testing_TestServiceProvider")
        #expect(service.clientName == "Grpc_Testing_TestServiceClient")
        #expect(service.methods[0].fullName(in: service) == "grpc.testing.TestService/UnaryCall")
        #expect(service.methods[0].path(in: service) == "/grpc.testing.TestService/UnaryCall")
    }

    @Test func serviceWithoutPackage() {
        let service = GRPCServiceDescription(
            name: "Greeter",
            methods: [GRPCMethodDescription(name: "SayHello", inputType: "In", outputType: "Out")]
        )
        #expect(service.fullName == "Greeter")
        #expect(service.swiftPrefix == "")
        #expect(service.providerName == "GreeterProvider")
        #expect(service.methods[0].path(in: service) == "/Greeter/SayHello")
    }

    @Test func explicitPrefixWins() {
        // As protoc-gen-swift's `option swift_prefix`; an empty one drops the package's prefix.
        let prefixed = GRPCServiceDescription(name: "Echo", protoPackage: "loop.echo", swiftPrefix: "LE", methods: [])
        #expect(prefixed.clientName == "LEEchoClient")
        #expect(prefixed.fullName == "loop.echo.Echo")
        let bare = GRPCServiceDescription(name: "Echo", protoPackage: "loop.echo", swiftPrefix: "", methods: [])
        #expect(bare.clientName == "EchoClient")
    }

    @Test func kindsFromStreamingFlags() {
        func kind(_ client: Bool, _ server: Bool) -> GRPCMethodKind {
            GRPCMethodDescription(
                name: "M",
                inputType: "In",
                outputType: "Out",
                isClientStreaming: client,
                isServerStreaming: server
            ).kind
        }
        #expect(kind(false, false) == .unary)
        #expect(kind(true, false) == .clientStreaming)
        #expect(kind(false, true) == .serverStreaming)
        #expect(kind(true, true) == .bidirectionalStreaming)
        for kind in GRPCMethodKind.allCases {
            #expect(
                GRPCMethodKind(clientStreaming: kind.isClientStreaming, serverStreaming: kind.isServerStreaming)
                    == kind
            )
        }
    }

    @Test func visibilityOptions() {
        #expect(GRPCVisibility(option: "Public") == .public)
        #expect(GRPCVisibility(option: "internal") == .internal)
        #expect(GRPCVisibility(option: "PACKAGE") == .package)
        #expect(GRPCVisibility(option: "private") == nil)
        #expect(GRPCVisibility.public.declarationPrefix == "public ")
        #expect(GRPCVisibility.package.declarationPrefix == "package ")
        #expect(GRPCVisibility.internal.declarationPrefix == "")
    }

    @Test func filesImportLoopGRPCAndItsProtobufCodecByDefault() {
        let file = GRPCFileDescription(protoPath: "a.proto", services: [])
        #expect(file.imports == ["LoopGRPC", "LoopGRPCProtobuf"])
        #expect(file.visibility == .internal)
    }
}
