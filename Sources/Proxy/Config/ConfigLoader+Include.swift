import Foundation
import Yams

extension ConfigLoader {
    /// `include:` — a config split over files, merged as LiteLLM merges them: paths resolve next to
    /// the file that declares them, else next to the root config (with a warning); includes nest and
    /// a file already loaded is skipped. Per top-level key, a list in an included file is appended
    /// to the list before it (base first); any other value replaces what was there (mappings are
    /// not merged key by key).
    func resolveIncludes(_ root: Node, file: String?, _ reader: inout YAMLReader) -> Node {
        guard let pairs = root.mapping.map(Array.init), pairs.contains(where: { $0.key.scalar?.string == "include" })
        else { return root }
        let rootFile = file.map { URL(fileURLWithPath: $0).standardizedFileURL }
        let rootDirectory =
            rootFile?.deletingLastPathComponent()
            ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
        var loaded = Set(rootFile.map { [Self.identity($0)] } ?? [])
        let merged = expand(
            pairs, directory: rootDirectory, rootDirectory: rootDirectory, declaredIn: file ?? "the config", loaded: &loaded,
            &reader)
        return .mapping(Node.Mapping(merged))
    }

    private func expand(
        _ pairs: [(key: Node, value: Node)], directory: URL, rootDirectory: URL, declaredIn: String,
        loaded: inout Set<String>, _ reader: inout YAMLReader
    ) -> [(Node, Node)] {
        var base = pairs.filter { $0.key.scalar?.string != "include" }.map { ($0.key, $0.value) }
        guard let includeNode = pairs.first(where: { $0.key.scalar?.string == "include" })?.value else { return base }
        guard let entries = includeNode.sequence, entries.allSatisfy({ $0.scalar != nil }) else {
            reader.error("include", "'include' must be a list of file paths")
            return base
        }
        for (index, entry) in entries.enumerated() {
            guard let name = reader.string(entry, at: "include[\(index)]") else { continue }
            guard let file = locate(name, directory: directory, rootDirectory: rootDirectory, declaredIn: declaredIn, &reader)
            else {
                reader.error("include[\(index)]", "Included file not found: \(Self.resolve(name, in: directory).path)")
                continue
            }
            // Also what ends a cycle of files including each other.
            guard loaded.insert(Self.identity(file)).inserted else { continue }
            guard let included = parse(file, at: "include[\(index)]", &reader) else { continue }
            let expanded = expand(
                included, directory: file.deletingLastPathComponent(), rootDirectory: rootDirectory, declaredIn: file.path,
                loaded: &loaded, &reader)
            base = Self.merge(expanded, into: base)
        }
        return base
    }

    /// The included file: next to the declaring file, else next to the root config.
    private func locate(
        _ name: String, directory: URL, rootDirectory: URL, declaredIn: String, _ reader: inout YAMLReader
    ) -> URL? {
        let local = Self.resolve(name, in: directory)
        if FileManager.default.fileExists(atPath: local.path) { return local }
        let fromRoot = Self.resolve(name, in: rootDirectory)
        guard fromRoot != local, FileManager.default.fileExists(atPath: fromRoot.path) else { return nil }
        reader.warning("include", "'\(name)' is not next to \(declaredIn); using \(fromRoot.path) next to the root config")
        return fromRoot
    }

    private func parse(_ file: URL, at path: String, _ reader: inout YAMLReader) -> [(key: Node, value: Node)]? {
        // Devices and pipes (`/dev/zero`) would never end.
        let target = file.resolvingSymlinksInPath().path
        let type = (try? FileManager.default.attributesOfItem(atPath: target))?[.type] as? FileAttributeType
        guard type == .typeRegular, let data = FileManager.default.contents(atPath: target) else {
            reader.error(path, "cannot read included file \(file.path)")
            return nil
        }
        let node: Node?
        do {
            node = try Yams.compose(yaml: String(decoding: data, as: UTF8.self))
        } catch {
            reader.error(path, "\(file.path) is not valid YAML: \(error)")
            return nil
        }
        guard let node else { return [] }  // an empty file adds nothing
        guard let mapping = node.mapping else {
            reader.error(path, "\(file.path) must be a mapping of top-level config keys")
            return nil
        }
        return Array(mapping)
    }

    static func merge(_ included: [(Node, Node)], into base: [(Node, Node)]) -> [(Node, Node)] {
        var result = base
        for (key, value) in included {
            guard let index = result.firstIndex(where: { $0.0.scalar?.string == key.scalar?.string }) else {
                result.append((key, value))
                continue
            }
            if let old = result[index].1.sequence, let new = value.sequence {
                result[index].1 = .sequence(Node.Sequence(Array(old) + Array(new)))
            } else {
                result[index].1 = value
            }
        }
        return result
    }

    private static func resolve(_ name: String, in directory: URL) -> URL {
        name.hasPrefix("/")
            ? URL(fileURLWithPath: name).standardizedFileURL
            : directory.appendingPathComponent(name).standardizedFileURL
    }

    /// One name per file, however it was reached (`./a.yaml`, `sub/../a.yaml`, a symlink).
    private static func identity(_ file: URL) -> String { file.resolvingSymlinksInPath().path }
}
