/// How many terminal columns a string takes, for aligning tables that hold model names, item ids
/// and symbols such as `×` and `–`.
///
/// Counts per grapheme cluster (so combining accents take no column of their own), two columns for
/// East Asian wide and fullwidth characters and emoji, none for control and zero-width characters.
/// The ranges follow Unicode's East Asian Width property (https://www.unicode.org/reports/tr11/)
/// closely enough for names and ids; it is not a full `wcwidth`.
public enum DisplayWidth {
    public static func of(_ text: String) -> Int {
        var width = 0
        for character in text {
            width += of(character)
        }
        return width
    }

    public static func of(_ character: Character) -> Int {
        guard let first = character.unicodeScalars.first else { return 0 }
        let value = first.value
        if value < 0x20 || (0x7F..<0xA0).contains(value) { return 0 }
        if value == 0x200B || value == 0x200D || value == 0xFEFF { return 0 }
        if character.unicodeScalars.contains(where: { $0.value == 0xFE0F }) { return 2 }
        if first.properties.isEmojiPresentation { return 2 }
        return isWide(value) ? 2 : 1
    }

    private static let wideRanges: [ClosedRange<UInt32>] = [
        0x1100...0x115F, 0x231A...0x231B, 0x2329...0x232A, 0x2E80...0x303E, 0x3041...0x33FF,
        0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF,
        0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F, 0x1F900...0x1F9FF,
        0x20000...0x2FFFD, 0x30000...0x3FFFD,
    ]

    private static func isWide(_ value: UInt32) -> Bool {
        wideRanges.contains { $0.contains(value) }
    }

    /// `text` cut to at most `width` columns, ending in `…` when something was cut.
    public static func truncate(_ text: String, to width: Int) -> String {
        guard of(text) > width else { return text }
        guard width > 0 else { return "" }
        var out = ""
        var used = 0
        for character in text {
            let w = of(character)
            if used + w > width - 1 { break }
            out.append(character)
            used += w
        }
        return out + "…"
    }

    /// `text` padded with spaces to `width` columns, on the right (`leftAligned`) or the left.
    public static func pad(_ text: String, to width: Int, leftAligned: Bool) -> String {
        let padding = String(repeating: " ", count: max(0, width - of(text)))
        return leftAligned ? text + padding : padding + text
    }
}
