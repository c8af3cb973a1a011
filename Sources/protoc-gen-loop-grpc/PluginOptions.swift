import LoopGRPCCodeGenerator
import SwiftProtobufPluginLibrary

/// The options protoc passes to protoc-gen-loop-grpc (`--loop-grpc_opt=Key=Value,...`).
struct PluginOptions {
    /// Where an output file goes, relative to the `--loop-grpc_out` folder.
    enum FileNaming {
        /// The `.proto` file's path: `grpc/testing/test.grpc.swift`.
        case fullPath
        /// The path with `/` replaced by `_`: `grpc_testing_test.grpc.swift`.
        case pathToUnderscores
        /// The file name only: `test.grpc.swift`.
        case dropPath

        init?(option: String) {
            switch option.lowercased() {
            case "fullpath", "full_path": self = .fullPath
            case "pathtounderscores", "path_to_underscores": self = .pathToUnderscores
            case "droppath", "drop_path": self = .dropPath
            default: return nil
            }
        }

        /// The output path for the `.proto` file `protoPath` (`.proto` replaced by `ext`).
        func outputPath(forProto protoPath: String, extension ext: String) -> String {
            let base = protoPath.hasSuffix(".proto") ? String(protoPath.dropLast(6)) : protoPath
            switch self {
            case .fullPath:
                return base + ext
            case .pathToUnderscores:
                return base.replacing("/", with: "_") + ext
            case .dropPath:
                return (base.split(separator: "/").last.map(String.init) ?? base) + ext
            }
        }
    }

    /// An option protoc-gen-loop-grpc does not understand, or a value it cannot use.
    struct InvalidOption: Error, CustomStringConvertible {
        let description: String
    }

    var visibility = GRPCVisibility.internal
    var fileNaming = FileNaming.fullPath
    var moduleMappings = ProtoFileToModuleMappings()
    var moduleName: String?
    /// Whether a `.proto` file without services still gets a (declaration-free) output file:
    /// build tools such as the SwiftPM plugin name their outputs before protoc runs.
    var writesFilesWithoutServices = false
    /// Whether a service whose methods have `google.api.http` options gets its
    /// `<Service>Gateway` enum of REST routes (and the file imports LoopGRPCGateway).
    var generatesGatewayRoutes = true

    init(parameter: any CodeGeneratorParameter) throws {
        for (key, value) in parameter.parsedPairs {
            switch key {
            case "Visibility":
                guard let visibility = GRPCVisibility(option: value) else {
                    throw InvalidOption(description: "Visibility=\(value): expected Internal, Package or Public")
                }
                self.visibility = visibility
            case "FileNaming":
                guard let naming = FileNaming(option: value) else {
                    throw InvalidOption(
                        description: "FileNaming=\(value): expected FullPath, PathToUnderscores or DropPath"
                    )
                }
                fileNaming = naming
            case "ProtoPathModuleMappings":
                guard !value.isEmpty else { continue }
                do {
                    moduleMappings = try ProtoFileToModuleMappings(path: value)
                } catch {
                    throw InvalidOption(description: "ProtoPathModuleMappings=\(value): \(error)")
                }
            case "ModuleName":
                guard isValidSwiftIdentifier(value) else {
                    throw InvalidOption(description: "ModuleName=\(value): not a Swift identifier")
                }
                moduleName = value
            case "FilesWithoutServices":
                switch value.lowercased() {
                case "skip": writesFilesWithoutServices = false
                case "write": writesFilesWithoutServices = true
                default: throw InvalidOption(description: "FilesWithoutServices=\(value): expected Skip or Write")
                }
            case "Gateway":
                switch value.lowercased() {
                case "true": generatesGatewayRoutes = true
                case "false": generatesGatewayRoutes = false
                default: throw InvalidOption(description: "Gateway=\(value): expected true or false")
                }
            default:
                throw InvalidOption(description: "unknown option \(key)")
            }
        }
    }
}
