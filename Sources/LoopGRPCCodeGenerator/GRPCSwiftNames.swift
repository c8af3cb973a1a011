/// How names in `.proto` files become Swift names in generated code.
public enum GRPCSwiftNames {
    /// A method name in lower camel case: `UnaryCall` → `unaryCall`, `HTTPGet` → `httpGet`,
    /// `URL` → `url`, `get_user` → `getUser`. A leading run of capitals is an acronym and
    /// is lowered whole, except its last letter when a lower-case letter follows.
    public static func lowerCamelCase(_ name: String) -> String {
        let words = name.split(separator: "_", omittingEmptySubsequences: true)
        guard let first = words.first else { return name }
        var result = lowerLeadingCapitals(Array(first))
        for word in words.dropFirst() {
            result += uppercasedFirst(String(word))
        }
        if let firstCharacter = result.first, firstCharacter.isASCII, firstCharacter.isNumber {
            result = "_" + result
        }
        return result
    }

    /// A type name made from a `.proto` name: its first letter in upper case, the rest
    /// unchanged (`Greeter` stays, `greeter` → `Greeter`).
    public static func typeName(_ name: String) -> String {
        uppercasedFirst(name)
    }

    /// The prefix protoc-gen-swift gives the types of a file without the `swift_prefix`
    /// option: each package component in upper camel case, `_` after each
    /// (`grpc.testing` → `Grpc_Testing_`, `my_pkg.v1` → `MyPkg_V1_`); empty without a package.
    public static func typePrefix(protoPackage: String) -> String {
        guard !protoPackage.isEmpty else { return "" }
        var prefix = ""
        var makeUpper = true
        for character in protoPackage {
            if character == "_" {
                makeUpper = true
            } else if character == "." {
                makeUpper = true
                prefix.append("_")
            } else {
                if prefix.isEmpty, character.isASCII, character.isNumber {
                    prefix.append("_")
                }
                prefix += makeUpper ? character.uppercased() : String(character)
                makeUpper = false
            }
        }
        return prefix + "_"
    }

    /// `identifier` in backticks when it is a Swift keyword that cannot name a function or a
    /// property without them (`return` → `` `return` ``), otherwise unchanged.
    public static func escapedIdentifier(_ identifier: String) -> String {
        reservedWords.contains(identifier) ? "`\(identifier)`" : identifier
    }

    /// Swift's keywords used in declarations, statements, expressions and types, which need
    /// backticks to be used as a name.
    public static let reservedWords: Set<String> = [
        // Declarations.
        "associatedtype", "borrowing", "class", "consuming", "deinit", "enum", "extension",
        "fileprivate", "func", "import", "init", "inout", "internal", "let", "nonisolated",
        "open", "operator", "precedencegroup", "private", "protocol", "public", "rethrows",
        "static", "struct", "subscript", "typealias", "var",
        // Statements.
        "break", "case", "catch", "continue", "default", "defer", "do", "else", "fallthrough",
        "for", "guard", "if", "in", "repeat", "return", "switch", "throw", "where", "while",
        // Expressions and types.
        "Any", "as", "await", "false", "is", "nil", "self", "Self", "super", "throws", "true",
        "try", "_",
    ]

    private static func lowerLeadingCapitals(_ characters: [Character]) -> String {
        var capitals = 0
        while capitals < characters.count, characters[capitals].isUppercase {
            capitals += 1
        }
        // In "HTTPGet" the "G" starts the next word: keep it upper case.
        if capitals > 1, capitals < characters.count, characters[capitals].isLowercase {
            capitals -= 1
        }
        let lowered = characters[..<capitals].map { $0.lowercased() }.joined()
        return lowered + String(characters[capitals...])
    }

    private static func uppercasedFirst(_ word: String) -> String {
        guard let first = word.first else { return word }
        return first.uppercased() + word.dropFirst()
    }
}
