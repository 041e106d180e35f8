/// What the pre-tokenizer patterns ask of one Unicode scalar, as bit flags: `\p{L}`, `\p{N}`,
/// `\s` (White_Space), and o200k's two letter classes.
struct ScalarClass: OptionSet, Sendable {
    let rawValue: UInt8

    static let letter = ScalarClass(rawValue: 1 << 0)
    static let number = ScalarClass(rawValue: 1 << 1)
    static let whitespace = ScalarClass(rawValue: 1 << 2)
    /// `\r` or `\n`.
    static let newline = ScalarClass(rawValue: 1 << 3)
    /// o200k's `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]`.
    static let upperish = ScalarClass(rawValue: 1 << 4)
    /// o200k's `[\p{Ll}\p{Lm}\p{Lo}\p{M}]`.
    static let lowerish = ScalarClass(rawValue: 1 << 5)

    /// Neither whitespace, letter nor number: `[^\s\p{L}\p{N}]`.
    var isOther: Bool { isDisjoint(with: [.letter, .number, .whitespace]) }

    /// `[^\r\n\p{L}\p{N}]`: what may precede a word.
    var isWordPrefix: Bool { isDisjoint(with: [.letter, .number, .newline]) }

    init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    init(_ scalar: Unicode.Scalar) {
        if scalar.isASCII {
            self = Self.ascii[Int(scalar.value)]
        } else {
            self = Self.classify(scalar)
        }
    }

    /// Looked up for ASCII, the bulk of most prompts; general categories are slower to read.
    private static let ascii: [ScalarClass] = (0..<128).map { classify(Unicode.Scalar(UInt8($0))) }

    private static func classify(_ scalar: Unicode.Scalar) -> ScalarClass {
        var flags: ScalarClass = []
        if scalar.properties.isWhitespace { flags.insert(.whitespace) }
        if scalar == "\r" || scalar == "\n" { flags.insert(.newline) }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .titlecaseLetter: flags.formUnion([.letter, .upperish])
        case .lowercaseLetter: flags.formUnion([.letter, .lowerish])
        case .modifierLetter, .otherLetter: flags.formUnion([.letter, .upperish, .lowerish])
        case .nonspacingMark, .spacingMark, .enclosingMark: flags.formUnion([.upperish, .lowerish])
        case .decimalNumber, .letterNumber, .otherNumber: flags.insert(.number)
        default: break
        }
        return flags
    }
}
