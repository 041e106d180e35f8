/// Finds the numbers written in a model's answer, for the numeric scorer.
///
/// A number is an optional sign (`-`, `+` or U+2212 `−`), digits with optional thousands
/// separators (`1,234,567`: a comma counts only when exactly three digits follow it), an optional
/// fraction (`.5` needs a digit after the point, so the full stop of "is 42." is not part of it)
/// and an optional exponent (`1.5e-3`). A `-` is a sign only when no letter or digit comes right
/// before it, so "3-4" reads as 3 and 4, not 3 and −4.
enum NumberScanner {
    static func lastNumber(in text: String) -> Double? {
        numbers(in: text).last
    }

    /// The whole text as one number (surrounding whitespace allowed), or nil.
    static func wholeNumber(_ text: String) -> Double? {
        let scalars = Array(AnswerText.trimmingWhitespace(text[...]).unicodeScalars)
        guard let (value, end) = number(at: 0, in: scalars), end == scalars.count else { return nil }
        return value
    }

    static func numbers(in text: String) -> [Double] {
        let scalars = Array(text.unicodeScalars)
        var found: [Double] = []
        var index = 0
        while index < scalars.count {
            if let (value, end) = number(at: index, in: scalars) {
                found.append(value)
                index = end
            } else {
                index += 1
            }
        }
        return found
    }

    /// Reads a number starting exactly at `start`, returning its value and the index after it.
    private static func number(at start: Int, in scalars: [Unicode.Scalar]) -> (Double, Int)? {
        var index = start
        var text = ""
        if index < scalars.count, isSign(scalars[index]) {
            if index > 0, isAlphanumeric(scalars[index - 1]) { return nil }
            if scalars[index] != "+" { text.append("-") }
            index += 1
        }
        let integerStart = index
        var groupDigits = 0
        var grouped = false
        while index < scalars.count {
            let scalar = scalars[index]
            if isDigit(scalar) {
                text.unicodeScalars.append(scalar)
                groupDigits += 1
                index += 1
            } else if scalar == ",", groupDigits > 0, grouped || groupDigits <= 3, threeDigitsFollow(index, scalars) {
                // A separator only between groups: the first group has 1 to 3 digits, later ones 3.
                groupDigits = 0
                grouped = true
                index += 1
            } else {
                break
            }
        }
        let hasInteger = index > integerStart
        if index + 1 < scalars.count, scalars[index] == ".", isDigit(scalars[index + 1]) {
            text.append(hasInteger ? "." : "0.")
            index += 1
            while index < scalars.count, isDigit(scalars[index]) {
                text.unicodeScalars.append(scalars[index])
                index += 1
            }
        } else if !hasInteger {
            return nil
        }
        if index < scalars.count, scalars[index] == "e" || scalars[index] == "E" {
            var exponentEnd = index + 1
            var exponent = "e"
            if exponentEnd < scalars.count, scalars[exponentEnd] == "-" || scalars[exponentEnd] == "+" {
                exponent.unicodeScalars.append(scalars[exponentEnd])
                exponentEnd += 1
            }
            let digitsStart = exponentEnd
            while exponentEnd < scalars.count, isDigit(scalars[exponentEnd]) {
                exponent.unicodeScalars.append(scalars[exponentEnd])
                exponentEnd += 1
            }
            if exponentEnd > digitsStart {
                text += exponent
                index = exponentEnd
            }
        }
        guard let value = Double(text), value.isFinite else { return nil }
        return (value, index)
    }

    private static func threeDigitsFollow(_ comma: Int, _ scalars: [Unicode.Scalar]) -> Bool {
        guard comma + 3 < scalars.count else { return false }
        for offset in 1...3 where !isDigit(scalars[comma + offset]) { return false }
        // "1,2345" is not 12,345: a fourth digit right after the group ends the number at the comma.
        return comma + 4 >= scalars.count || !isDigit(scalars[comma + 4])
    }

    private static func isSign(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "-" || scalar == "+" || scalar == "\u{2212}"
    }

    private static func isDigit(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value >= 0x30 && scalar.value <= 0x39
    }

    private static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        isDigit(scalar) || scalar.properties.isAlphabetic
    }
}
