import LoopGRPCCodeGenerator
import SwiftProtobuf
import SwiftProtobufPluginLibrary

/// protoc-gen-loop-grpc: the protoc plugin writing, for each `.proto` file with services, a
/// `<name>.grpc.swift` of service protocols and client stubs for LoopGRPC, and REST routes for
/// LoopGRPCGateway where methods have `google.api.http` options. Message types are named as
/// protoc-gen-swift names them, so the output compiles next to its `.pb.swift`.
///
/// Options (`--loop-grpc_opt=Key=Value,...`), as protoc-gen-swift spells them:
/// - `Visibility=Internal|Package|Public`: access level of the declarations (default Internal).
/// - `FileNaming=FullPath|PathToUnderscores|DropPath`: where the output goes (default FullPath).
/// - `ProtoPathModuleMappings=<file>`: the module of each `.proto` file's messages, when they
///   live in other modules; their modules are imported.
/// - `ModuleName=<module>`: the module the output is compiled into, so it does not import
///   itself (e.g. `LoopGRPCProtobuf` for grpc.health.v1).
/// - `FilesWithoutServices=Skip|Write`: whether a file without services gets an output file
///   (default Skip; the SwiftPM build plugin asks for Write, as it names its outputs up front).
/// - `Gateway=true|false`: whether a service with `google.api.http` options gets a
///   `<Service>Gateway` enum of routes, importing LoopGRPCGateway (default true; a malformed
///   or unsupported rule is then an error naming the method).
@main
struct LoopGRPCPlugin: CodeGenerator {
    var supportedFeatures: [Google_Protobuf_Compiler_CodeGeneratorResponse.Feature] {
        [.proto3Optional, .supportsEditions]
    }

    var supportedEditionRange: ClosedRange<Google_Protobuf_Edition> {
        DescriptorSet.bundledEditionsSupport
    }

    var version: String? { "1.0.0" }

    func generate(
        files: [FileDescriptor],
        parameter: any CodeGeneratorParameter,
        protoCompilerContext: any ProtoCompilerContext,
        generatorOutputs: any GeneratorOutputs
    ) throws {
        let options = try PluginOptions(parameter: parameter)
        let renderer = GRPCSourceRenderer()
        for file in files where options.writesFilesWithoutServices || !file.services.isEmpty {
            let description = try FileDescriptionBuilder(options: options).description(of: file)
            try generatorOutputs.add(
                fileName: options.fileNaming.outputPath(forProto: file.name, extension: ".grpc.swift"),
                contents: renderer.render(description)
            )
        }
    }
}
