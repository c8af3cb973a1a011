import LoopGRPCCodeGenerator
import SwiftProtobufPluginLibrary

/// Turns a `.proto` file's descriptor into the code generator's model, naming message types
/// with protoc-gen-swift's namer.
struct FileDescriptionBuilder {
    let options: PluginOptions

    /// The services of `file`, their methods and comments.
    func description(of file: FileDescriptor) -> GRPCFileDescription {
        let namer = SwiftProtobufNamer(currentFile: file, protoFileToModuleMappings: options.moduleMappings)
        let prefix = namer.typePrefix(forFile: file)
        let services = file.services.map { service in
            GRPCServiceDescription(
                name: service.name,
                protoPackage: file.package,
                swiftPrefix: prefix,
                documentation: comment(of: service),
                methods: service.methods.map { method in
                    GRPCMethodDescription(
                        name: method.name,
                        inputType: namer.fullName(message: method.inputType),
                        outputType: namer.fullName(message: method.outputType),
                        isClientStreaming: method.clientStreaming,
                        isServerStreaming: method.serverStreaming,
                        documentation: comment(of: method)
                    )
                }
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
        imports += messageModules.subtracting(imports).sorted()
        imports.removeAll { $0 == options.moduleName }
        return GRPCFileDescription(
            protoPath: file.name,
            services: services,
            visibility: options.visibility,
            imports: imports
        )
    }

    /// The comment before a declaration or, without one, after it (as protoc-gen-swift does).
    private func comment(of declaration: some ProvidesSourceCodeLocation) -> String {
        guard let location = declaration.sourceCodeInfoLocation else { return "" }
        return location.hasLeadingComments ? location.leadingComments : location.trailingComments
    }
}
