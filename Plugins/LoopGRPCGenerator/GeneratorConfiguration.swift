import Foundation
import PackagePlugin

/// A `loop-grpc.json`: what to generate for the `.proto` files in its folder and how.
struct GeneratorConfiguration {
    static let fileName = "loop-grpc.json"

    /// The access level of the generated declarations.
    enum Visibility: String, CaseIterable {
        case `internal`, package, `public`

        /// The value both protoc plugins take (`Visibility=Internal`).
        var option: String { rawValue.prefix(1).uppercased() + rawValue.dropFirst() }
    }

    var visibility = Visibility.internal
    /// Message types (protoc-gen-swift).
    var messages = true
    /// Service protocols and clients (protoc-gen-loop-grpc).
    var services = true
    /// REST routes (`<Service>Gateway`, for LoopGRPCGateway) for services with
    /// `google.api.http` options.
    var gateway = true
    /// Import roots, relative to the file's folder.
    var importPaths = ["."]
    /// protoc, if given.
    var protocPath: String?

    /// The file's fields as written; every one optional.
    private struct Fields: Decodable {
        var visibility: String?
        var messages: Bool?
        var services: Bool?
        var gateway: Bool?
        var importPaths: [String]?
        var protocPath: String?

        static let keys: Set<String> = ["visibility", "messages", "services", "gateway", "importPaths", "protocPath"]
    }

    /// Reads and checks `url`; a typo in a key or a value of the wrong type is an error that
    /// names the file, not a silently ignored setting.
    init(contentsOf url: URL) throws {
        let data = try Data(contentsOf: url)
        guard let object = try? JSONSerialization.jsonObject(with: data), let keys = (object as? [String: Any])?.keys
        else {
            throw PluginError("\(url.path) must hold a JSON object, e.g. {\"visibility\": \"public\"}")
        }
        for key in keys.sorted() where !Fields.keys.contains(key) {
            throw PluginError(
                "\(url.path): unknown key \"\(key)\" (known: \(Fields.keys.sorted().joined(separator: ", ")))"
            )
        }
        let fields: Fields
        do {
            fields = try JSONDecoder().decode(Fields.self, from: data)
        } catch DecodingError.typeMismatch(let type, let context) {
            let key = context.codingPath.first?.stringValue ?? "?"
            throw PluginError("\(url.path): \"\(key)\" must be of type \(type)")
        } catch {
            throw PluginError("\(url.path): \(error)")
        }
        if let text = fields.visibility {
            guard let visibility = Visibility(rawValue: text.lowercased()) else {
                throw PluginError("\(url.path): \"visibility\" is \"\(text)\"; expected internal, package or public")
            }
            self.visibility = visibility
        }
        messages = fields.messages ?? true
        services = fields.services ?? true
        gateway = fields.gateway ?? true
        if let paths = fields.importPaths {
            guard !paths.isEmpty else { throw PluginError("\(url.path): \"importPaths\" must not be empty") }
            importPaths = paths
        }
        protocPath = fields.protocPath
    }

    /// protoc: `protocPath`, else `$PROTOC_PATH`, else `protoc` on `PATH`.
    func protoc(context: PluginContext, configurationFile: URL) throws -> URL {
        if let protocPath {
            let url = URL(fileURLWithPath: protocPath, relativeTo: configurationFile.deletingLastPathComponent())
            guard FileManager.default.isExecutableFile(atPath: url.path) else {
                throw PluginError("protocPath \(url.path) in \(configurationFile.path) is not an executable file")
            }
            return url
        }
        if let path = ProcessInfo.processInfo.environment["PROTOC_PATH"], !path.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw PluginError("PROTOC_PATH=\(path) is not an executable file")
            }
            return URL(fileURLWithPath: path)
        }
        // PluginContext.tool(named:) knows only the plugin's own tools: look on PATH too.
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":") where !folder.isEmpty {
            let candidate = URL(fileURLWithPath: String(folder)).appending(path: "protoc")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        if let tool = try? context.tool(named: "protoc") { return tool.url }
        throw PluginError(
            "protoc not found on PATH: install it (Debian: apt-get install protobuf-compiler), "
                + "or set \"protocPath\" in \(configurationFile.path) or PROTOC_PATH"
        )
    }
}
