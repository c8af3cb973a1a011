import LoopGRPCCodeGenerator
import SwiftProtobufPluginLibrary

/// Turns a `.proto` file's descriptor into the code generator's model, naming message types
/// with protoc-gen-swift's namer and reading each method's `google.api.http` option.
struct FileDescriptionBuilder {
    /// A method's `google.api.http` option that cannot become routes: protoc shows it as the
    /// plugin's error, naming the file and the method.
    struct InvalidHTTPRule: Error, CustomStringConvertible {
        let description: String
    }

    let options: PluginOptions

    /// The services of `file`, their methods, comments and HTTP rules.
    func description(of file: FileDescriptor) throws(InvalidHTTPRule) -> GRPCFileDescription {
        let namer = SwiftProtobufNamer(currentFile: file, protoFileToModuleMappings: options.moduleMappings)
        let prefix = namer.typePrefix(forFile: file)
        var services: [GRPCServiceDescription] = []
        for service in file.services {
            var methods: [GRPCMethodDescription] = []
            for method in service.methods {
                methods.append(
                    GRPCMethodDescription(
                        name: method.name,
                        inputType: namer.fullName(message: method.inputType),
                        outputType: namer.fullName(message: method.outputType),
                        isClientStreaming: method.clientStreaming,
                        isServerStreaming: method.serverStreaming,
                        documentation: comment(of: method),
                        httpRule: try httpRule(of: method, in: file)
                    )
                )
            }
            services.append(
                GRPCServiceDescription(
                    name: service.name,
                    protoPackage: file.package,
                    swiftPrefix: prefix,
                    documentation: comment(of: service),
                    methods: methods
                )
            )
        }
        // The modules of message types defined elsewhere (SwiftProtobuf's for well-known
        // types, others through ProtoPathModuleMappings), which the namer prefixes.
        var messageModules = Set<String>()
        for service in file.services {
            for method in service.methods {
                let messages: [Descriptor] = [method.inputType, method.outputType]
                for message in messages {
                    if let module = options.moduleMappings.moduleName(forFile: message.file),
                        module != namer.targetModule
                    {
                        messageModules.insert(module)
                    }
                }
            }
        }
        var imports = GRPCFileDescription.defaultImports
        if services.contains(where: \.hasHTTPRules) {
            imports.append(GRPCFileDescription.gatewayImport)
        }
        imports += messageModules.subtracting(imports).sorted()
        imports.removeAll { $0 == options.moduleName }
        return GRPCFileDescription(
            protoPath: file.name,
            services: services,
            visibility: options.visibility,
            imports: imports
        )
    }

    /// The method's `google.api.http` option, which protoc passes as an unknown field of its
    /// options (the plugin has no google.api types); nil without one or with `Gateway=false`.
    private func httpRule(of method: MethodDescriptor, in file: FileDescriptor) throws(InvalidHTTPRule) -> GRPCHTTPRule? {
        guard options.generatesGatewayRoutes else { return nil }
        let kind = GRPCMethodKind(clientStreaming: method.clientStreaming, serverStreaming: method.serverStreaming)
        do {
            return try GRPCHTTPRuleDecoder.rule(methodOptions: Array(method.options.unknownFields.data), kind: kind)
        } catch {
            throw InvalidHTTPRule(description: "\(file.name): method \(method.service.fullName).\(method.name): \(error)")
        }
    }

    /// The comment before a declaration or, without one, after it (as protoc-gen-swift does).
    private func comment(of declaration: some ProvidesSourceCodeLocation) -> String {
        guard let location = declaration.sourceCodeInfoLocation else { return "" }
        return location.hasLeadingComments ? location.leadingComments : location.trailingComments
    }
}
