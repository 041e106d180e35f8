import Telemetry

/// One run of `JSONSchemaValidator.validate`: the limits' counters and the compiled patterns.
/// A class so that nested checks share one step budget; it never leaves the call that made it.
final class SchemaEvaluation {
    let root: JSONValue
    let maxDepth: Int
    let maxSteps: Int
    private var steps = 0
    /// Set when a limit stopped the validation; the value then fails with this message alone.
    private(set) var limitHit: String?
    /// Pattern → compiled regex, nil when it does not compile.
    private var patterns: [String: Regex<AnyRegexOutput>?] = [:]

    init(root: JSONValue, maxDepth: Int, maxSteps: Int) {
        self.root = root
        self.maxDepth = maxDepth
        self.maxSteps = maxSteps
    }

    func errors(_ schema: JSONValue, _ value: JSONValue, path: String, depth: Int) -> [String] {
        if limitHit != nil { return ["limit"] }
        steps += 1
        guard depth <= maxDepth else {
            limitHit = "\(JSONSchemaValidator.display(path)): the schema nests deeper than \(maxDepth) levels"
            return ["limit"]
        }
        guard steps <= maxSteps else {
            limitHit = "\(JSONSchemaValidator.display(path)): the schema needs more than \(maxSteps) checks"
            return ["limit"]
        }
        let here = JSONSchemaValidator.display(path)
        switch schema {
        case .bool(true): return []
        case .bool(false): return ["\(here): no value is allowed here"]
        case .object(let keywords): return errors(keywords, value, path: path, depth: depth)
        default: return ["\(here): the schema is a \(schema.typeName), not an object or a boolean"]
        }
    }

    private func errors(_ keywords: JSONObject, _ value: JSONValue, path: String, depth: Int) -> [String] {
        let here = JSONSchemaValidator.display(path)
        var found: [String] = []
        if let reference = keywords["$ref"]?.stringValue {
            if let target = JSONSchemaValidator.resolve(reference, in: root) {
                found += errors(target, value, path: path, depth: depth + 1)
            } else {
                found.append("\(here): the schema's $ref '\(reference)' leads nowhere")
            }
        }
        found += typeErrors(keywords, value, here)
        if let allowed = keywords["enum"]?.arrayValue, !allowed.contains(where: { $0.isEquivalent(to: value) }) {
            found.append("\(here): \(describe(value)) is not one of the enum values")
        }
        if let constant = keywords["const"], !constant.isEquivalent(to: value) {
            found.append("\(here): expected \(describe(constant)), got \(describe(value))")
        }
        switch value {
        case .number(let text): found += numberErrors(keywords, Double(text), here)
        case .string(let text): found += stringErrors(keywords, text, here)
        case .array(let items): found += arrayErrors(keywords, items, path: path, depth: depth)
        case .object(let object): found += objectErrors(keywords, object, path: path, depth: depth)
        default: break
        }
        found += combinatorErrors(keywords, value, path: path, depth: depth)
        return found
    }

    private func typeErrors(_ keywords: JSONObject, _ value: JSONValue, _ here: String) -> [String] {
        let names: [String]
        switch keywords["type"] {
        case .string(let name)?: names = [name]
        case .array(let list)?: names = list.compactMap(\.stringValue)
        default: return []
        }
        guard !names.contains(where: { Self.hasType($0, value) }) else { return [] }
        let wanted = names.count == 1 ? names[0] : "one of \(names.joined(separator: ", "))"
        return ["\(here): expected \(wanted), got \(Self.typeName(value))"]
    }

    static func hasType(_ name: String, _ value: JSONValue) -> Bool {
        switch (name, value) {
        case ("null", .null), ("boolean", .bool), ("number", .number), ("string", .string), ("array", .array),
            ("object", .object):
            true
        case ("integer", .number(let text)): Double(text).map(isWhole) ?? false
        default: false
        }
    }

    private static func typeName(_ value: JSONValue) -> String {
        if case .number(let text) = value, Double(text).map(isWhole) ?? false { return "integer" }
        return value.typeName
    }

    private static func isWhole(_ number: Double) -> Bool {
        number.isFinite && number.rounded() == number
    }

    private func numberErrors(_ keywords: JSONObject, _ number: Double?, _ here: String) -> [String] {
        guard let number else { return [] }
        var found: [String] = []
        func bound(_ keyword: String, _ holds: (Double, Double) -> Bool, _ words: String) {
            if let limit = keywords[keyword]?.doubleValue, !holds(number, limit) {
                found.append("\(here): \(format(number)) is not \(words) \(format(limit))")
            }
        }
        bound("minimum", >=, "≥")
        bound("maximum", <=, "≤")
        bound("exclusiveMinimum", >, ">")
        bound("exclusiveMaximum", <, "<")
        if let divisor = keywords["multipleOf"]?.doubleValue, divisor > 0 {
            let quotient = number / divisor
            if !quotient.isFinite || abs(quotient - quotient.rounded()) > 1e-9 * max(1, abs(quotient)) {
                found.append("\(here): \(format(number)) is not a multiple of \(format(divisor))")
            }
        }
        return found
    }

    private func stringErrors(_ keywords: JSONObject, _ text: String, _ here: String) -> [String] {
        var found: [String] = []
        let length = text.unicodeScalars.count
        if let minimum = keywords["minLength"]?.intValue, length < minimum {
            found.append("\(here): the string has \(length) characters, fewer than minLength \(minimum)")
        }
        if let maximum = keywords["maxLength"]?.intValue, length > maximum {
            found.append("\(here): the string has \(length) characters, more than maxLength \(maximum)")
        }
        if let pattern = keywords["pattern"]?.stringValue {
            if let regex = compiled(pattern) {
                if (try? regex.firstMatch(in: text)) == nil {
                    found.append("\(here): the string does not match the pattern \(pattern)")
                }
            } else {
                found.append("\(here): the schema's pattern \(pattern) does not compile")
            }
        }
        return found
    }

    private func arrayErrors(_ keywords: JSONObject, _ items: [JSONValue], path: String, depth: Int) -> [String] {
        let here = JSONSchemaValidator.display(path)
        var found: [String] = []
        if let minimum = keywords["minItems"]?.intValue, items.count < minimum {
            found.append("\(here): the array has \(items.count) items, fewer than minItems \(minimum)")
        }
        if let maximum = keywords["maxItems"]?.intValue, items.count > maximum {
            found.append("\(here): the array has \(items.count) items, more than maxItems \(maximum)")
        }
        // 2020-12 `prefixItems` + `items`; an array `items` is the pre-2020 tuple form.
        var prefix = keywords["prefixItems"]?.arrayValue ?? []
        var rest = keywords["items"]
        if let tuple = rest?.arrayValue {
            if keywords["prefixItems"] == nil { prefix = tuple }
            rest = nil
        }
        for (index, item) in items.enumerated() {
            let itemPath = path + "/\(index)"
            if index < prefix.count {
                found += errors(prefix[index], item, path: itemPath, depth: depth + 1)
            } else if let rest {
                found += errors(rest, item, path: itemPath, depth: depth + 1)
            }
            if limitHit != nil { return found }
        }
        if keywords["uniqueItems"]?.boolValue == true {
            found += uniquenessErrors(items, here)
        }
        if let contains = keywords["contains"] {
            var matches = 0
            for (index, item) in items.enumerated() {
                let itemErrors = errors(contains, item, path: path + "/\(index)", depth: depth + 1)
                if itemErrors.isEmpty { matches += 1 }
            }
            let minimum = keywords["minContains"]?.intValue ?? 1
            if matches < minimum {
                found.append("\(here): \(matches) items match 'contains', fewer than \(minimum)")
            }
            if let maximum = keywords["maxContains"]?.intValue, matches > maximum {
                found.append("\(here): \(matches) items match 'contains', more than \(maximum)")
            }
        }
        return found
    }

    private func uniquenessErrors(_ items: [JSONValue], _ here: String) -> [String] {
        for first in items.indices {
            for second in items.indices where second > first {
                steps += 1
                if steps > maxSteps {
                    limitHit = "\(here): the schema needs more than \(maxSteps) checks"
                    return ["limit"]
                }
                if items[first].isEquivalent(to: items[second]) {
                    return ["\(here): items \(first) and \(second) are equal, but uniqueItems is set"]
                }
            }
        }
        return []
    }

    private func objectErrors(_ keywords: JSONObject, _ object: JSONObject, path: String, depth: Int) -> [String] {
        let here = JSONSchemaValidator.display(path)
        var found: [String] = []
        var keys: [String] = []
        var seen: Set<String> = []
        for key in object.keys where seen.insert(key).inserted { keys.append(key) }

        for name in keywords["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where object[name] == nil {
            found.append("\(here): missing required property '\(name)'")
        }
        if let minimum = keywords["minProperties"]?.intValue, keys.count < minimum {
            found.append("\(here): the object has \(keys.count) properties, fewer than minProperties \(minimum)")
        }
        if let maximum = keywords["maxProperties"]?.intValue, keys.count > maximum {
            found.append("\(here): the object has \(keys.count) properties, more than maxProperties \(maximum)")
        }
        if let dependencies = keywords["dependentRequired"]?.objectValue {
            for (key, needed) in dependencies.members where object[key] != nil {
                for name in needed.arrayValue?.compactMap(\.stringValue) ?? [] where object[name] == nil {
                    found.append("\(here): property '\(key)' requires property '\(name)'")
                }
            }
        }
        let properties = keywords["properties"]?.objectValue ?? [:]
        let patternProperties = keywords["patternProperties"]?.objectValue ?? [:]
        let additional = keywords["additionalProperties"]
        for key in keys {
            guard let member = object[key] else { continue }
            let memberPath = path + "/" + JSONSchemaValidator.token(key)
            if let names = keywords["propertyNames"] {
                for error in errors(names, .string(key), path: memberPath, depth: depth + 1) {
                    found.append("\(error) (the property name)")
                }
            }
            var matched = false
            if let schema = properties[key] {
                matched = true
                found += errors(schema, member, path: memberPath, depth: depth + 1)
            }
            for (pattern, schema) in patternProperties.members {
                guard let regex = compiled(pattern) else {
                    found.append("\(here): the schema's patternProperties pattern \(pattern) does not compile")
                    continue
                }
                if (try? regex.firstMatch(in: key)) != nil {
                    matched = true
                    found += errors(schema, member, path: memberPath, depth: depth + 1)
                }
            }
            if !matched, let additional {
                if additional == .bool(false) {
                    found.append("\(JSONSchemaValidator.display(memberPath)): property '\(key)' is not allowed")
                } else {
                    found += errors(additional, member, path: memberPath, depth: depth + 1)
                }
            }
            if limitHit != nil { return found }
        }
        return found
    }

    private func combinatorErrors(_ keywords: JSONObject, _ value: JSONValue, path: String, depth: Int) -> [String] {
        let here = JSONSchemaValidator.display(path)
        var found: [String] = []
        for schema in keywords["allOf"]?.arrayValue ?? [] {
            found += errors(schema, value, path: path, depth: depth + 1)
        }
        if let options = keywords["anyOf"]?.arrayValue {
            let passes = options.contains { errors($0, value, path: path, depth: depth + 1).isEmpty }
            if !passes { found.append("\(here): the value matches none of the \(options.count) anyOf schemas") }
        }
        if let options = keywords["oneOf"]?.arrayValue {
            let matching = options.indices.filter { errors(options[$0], value, path: path, depth: depth + 1).isEmpty }
            if matching.count != 1 {
                let which = matching.isEmpty ? "none" : matching.map(String.init).joined(separator: ", ")
                found.append("\(here): the value must match exactly one oneOf schema, but matches \(which)")
            }
        }
        if let negated = keywords["not"], errors(negated, value, path: path, depth: depth + 1).isEmpty {
            found.append("\(here): the value matches the schema under 'not'")
        }
        if let condition = keywords["if"] {
            let branch = errors(condition, value, path: path, depth: depth + 1).isEmpty ? "then" : "else"
            if let schema = keywords[branch] {
                found += errors(schema, value, path: path, depth: depth + 1)
            }
        }
        return found
    }

    private func compiled(_ pattern: String) -> Regex<AnyRegexOutput>? {
        if let cached = patterns[pattern] { return cached }
        let regex = try? Regex<AnyRegexOutput>(pattern)
        patterns.updateValue(regex, forKey: pattern)
        return regex
    }

    private func describe(_ value: JSONValue) -> String {
        AnswerText.excerpt(value.encodedString(), limit: 60)
    }

    private func format(_ number: Double) -> String { JSONValue.double(number).encodedString() }
}
