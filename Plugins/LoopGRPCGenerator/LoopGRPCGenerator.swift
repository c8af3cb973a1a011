import Foundation
import PackagePlugin

/// The SwiftPM build plugin that turns a target's `.proto` files into Swift on every build:
/// messages with swift-protobuf's protoc-gen-swift, services (provider protocols and clients)
/// with protoc-gen-loop-grpc.
///
/// A target opts in with a `loop-grpc.json` next to its `.proto` files; every `.proto` file in
/// that folder and below is generated (a `loop-grpc.json` deeper down governs its own folder):
///
/// ```json
/// {
///     "visibility": "internal",
///     "messages": true,
///     "services": true,
///     "gateway": true,
///     "importPaths": ["."],
///     "protocPath": "/usr/bin/protoc"
/// }
/// ```
///
/// Every key is optional. `visibility` is `internal` (default), `package` or `public`;
/// `gateway: false` skips the REST routes of services with `google.api.http` options (which
/// need LoopGRPCGateway); `importPaths` are relative to the file (default: its folder), and
/// must reach any imported `.proto`, such as `google/api/annotations.proto`; protoc is `protocPath`, else
/// `$PROTOC_PATH`, else the `protoc` on `PATH` (Debian: `apt-get install protobuf-compiler`).
@main
struct LoopGRPCGenerator: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) async throws -> [Command] {
        guard let module = target as? SourceModuleTarget else { return [] }
        let files = module.sourceFiles.map { $0.url.standardizedFileURL }
        let configurationFiles = files.filter { $0.lastPathComponent == GeneratorConfiguration.fileName }
        let protos = files.filter { $0.pathExtension == "proto" }.sorted { $0.path < $1.path }
        guard !configurationFiles.isEmpty else {
            if !protos.isEmpty {
                throw PluginError(
                    "target '\(target.name)' has .proto files but no \(GeneratorConfiguration.fileName) next to "
                        + "them: add one (it may be just {}) to generate their Swift code"
                )
            }
            return []
        }
        let tools = GeneratorTools(
            protocGenSwift: try context.tool(named: "protoc-gen-swift").url,
            protocGenLoopGRPC: try context.tool(named: "protoc-gen-loop-grpc").url
        )
        let outputFolder = context.pluginWorkDirectoryURL.appending(path: "Generated", directoryHint: .isDirectory)
        var commands: [Command] = []
        var outputOwners: [String: String] = [:]
        for (index, configurationFile) in configurationFiles.sorted(by: { $0.path < $1.path }).enumerated() {
            let configuration = try GeneratorConfiguration(contentsOf: configurationFile)
            let folder = configurationFile.deletingLastPathComponent()
            // SwiftPM runs this plugin only when it plans the build (after a change to the
            // manifest or to the target's list of files), not when loop-grpc.json's content
            // changes: each command first checks the file still reads as it did here.
            let snapshot = context.pluginWorkDirectoryURL.appending(
                path: "loop-grpc-\(index).json.planned"
            )
            try Data(contentsOf: configurationFile).write(to: snapshot)
            // The nearest loop-grpc.json above a .proto file governs it.
            let governed = protos.filter { proto in
                nearestConfigurationFolder(of: proto, among: configurationFiles) == folder.path
            }
            let protoc = try configuration.protoc(context: context, configurationFile: configurationFile)
            let importRoots = configuration.importPaths.map {
                folder.appending(path: $0, directoryHint: .isDirectory).standardizedFileURL
            }
            for proto in governed {
                guard let root = importRoots.first(where: { proto.path.hasPrefix($0.path + "/") }) else {
                    throw PluginError(
                        "\(proto.path) is outside every import path of \(configurationFile.path) "
                            + "(\(importRoots.map(\.path).joined(separator: ", ")))"
                    )
                }
                let protoName = String(proto.path.dropFirst(root.path.count + 1))
                let baseName = String(protoName.dropLast(".proto".count)).replacing("/", with: "_")
                var outputs: [URL] = []
                var arguments = importRoots.map { "--proto_path=\($0.path)" }
                if configuration.messages {
                    outputs.append(outputFolder.appending(path: baseName + ".pb.swift"))
                    arguments += [
                        "--plugin=protoc-gen-swift=\(tools.protocGenSwift.path)",
                        "--swift_out=\(outputFolder.path)",
                        "--swift_opt=Visibility=\(configuration.visibility.option),FileNaming=PathToUnderscores",
                    ]
                }
                if configuration.services {
                    outputs.append(outputFolder.appending(path: baseName + ".grpc.swift"))
                    arguments += [
                        "--plugin=protoc-gen-loop-grpc=\(tools.protocGenLoopGRPC.path)",
                        "--loop-grpc_out=\(outputFolder.path)",
                        "--loop-grpc_opt=Visibility=\(configuration.visibility.option),FileNaming=PathToUnderscores,"
                            + "FilesWithoutServices=Write" + (configuration.gateway ? "" : ",Gateway=false"),
                    ]
                }
                if outputs.isEmpty { continue }
                if let other = outputOwners[baseName] {
                    throw PluginError("\(proto.path) and \(other) would both generate \(baseName).*.swift: rename one")
                }
                outputOwners[baseName] = proto.path
                arguments.append(proto.path)
                commands.append(
                    .buildCommand(
                        displayName: "Generating Swift for \(protoName) (LoopGRPCGenerator)",
                        executable: URL(fileURLWithPath: "/bin/sh"),
                        arguments: ["-c", Self.checkPlanThenRun, "sh", configurationFile.path, snapshot.path, protoc.path]
                            + arguments,
                        // Every .proto of the folder: an import may change what this one generates.
                        inputFiles: governed + [configurationFile, tools.protocGenSwift, tools.protocGenLoopGRPC],
                        outputFiles: outputs
                    )
                )
            }
        }
        return commands
    }

    /// `sh -c` script: `$1` the loop-grpc.json, `$2` its content when the build was planned,
    /// then the protoc command line.
    static let checkPlanThenRun = """
        if ! cmp -s "$1" "$2"; then
            echo "error: LoopGRPCGenerator: $1 changed since SwiftPM planned this build, and SwiftPM plans \\
        again only when Package.swift or the target's files change: touch Package.swift and build again" >&2
            exit 1
        fi
        shift 2
        exec "$@"
        """

    /// The folder of the deepest `loop-grpc.json` whose folder holds `proto`.
    private func nearestConfigurationFolder(of proto: URL, among configurationFiles: [URL]) -> String? {
        configurationFiles
            .map { $0.deletingLastPathComponent().path }
            .filter { proto.path.hasPrefix($0 + "/") }
            .max { $0.count < $1.count }
    }
}

/// The two protoc plugins the generator runs.
struct GeneratorTools {
    let protocGenSwift: URL
    let protocGenLoopGRPC: URL
}

/// A message SwiftPM shows as the build's error.
struct PluginError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = "LoopGRPCGenerator: " + description
    }
}
