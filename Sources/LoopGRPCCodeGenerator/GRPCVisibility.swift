/// The access level of the declarations a generated file contains, like protoc-gen-swift's
/// `Visibility` option.
public enum GRPCVisibility: String, Sendable, Hashable, CaseIterable {
    /// No modifier: the declarations are visible inside their module only.
    case `internal` = "Internal"
    /// `package`: visible to the other modules of the same package.
    case `package` = "Package"
    /// `public`: visible to every module that imports the generated one.
    case `public` = "Public"

    /// Parses an option value (`Public`, `internal`, `PACKAGE`, ...), ignoring case.
    public init?(option: String) {
        switch option.lowercased() {
        case "internal": self = .internal
        case "package": self = .package
        case "public": self = .public
        default: return nil
        }
    }

    /// The modifier to write before a declaration, followed by a space; empty for
    /// ``internal``.
    public var declarationPrefix: String {
        switch self {
        case .internal: ""
        case .package: "package "
        case .public: "public "
        }
    }
}
