import Foundation

/// JSON read as a hostile hand may have written it: an object that names a key twice is refused.
///
/// RFC 8259 leaves such an object's meaning to the reader: Foundation's decoder takes one of the
/// values, Python's `json` the last, so a file can state one thing to the verifier and another to
/// whoever reads it next (a `package.json` whose `nrmse` appears twice verified although a
/// second reader saw the edited value). Every file convsweep reads back — manifests, fits,
/// packages, model tables, references — goes through ``decode(_:from:)``.
public enum StrictJSON {
    /// What strict JSON refuses: a key named twice in one object, or a comma before a closing
    /// bracket (RFC 8259 has none; Foundation's decoder reads one, Python's `json` refuses it).
    public struct Refusal: Error, CustomStringConvertible, Equatable, Sendable {
        /// The key named twice (escapes resolved); nil for a trailing comma.
        public var key: String?
        /// The line (from 1) of the key's second appearance, or of the comma.
        public var line: Int

        /// "line N, field KEY: …" or "line N: …".
        public var description: String {
            if let key {
                return
                    "line \(line), field \(key): the key appears twice in one object (readers disagree on which value counts)"
            }
            return "line \(line): a comma before a closing bracket is not JSON (readers disagree on it)"
        }
    }

    /// `T` decoded from `data` by `decoder` (a plain one unless the format says otherwise, as
    /// compare.json's `"nan"` does), after refusing what strict JSON does not allow (``Refusal``).
    ///
    /// - Throws: ``Refusal``, or what `JSONDecoder` throws.
    public static func decode<T: Decodable>(
        _ type: T.Type, from data: Data, decoder: JSONDecoder = JSONDecoder()
    ) throws -> T {
        if let refusal = refusal(in: data) { throw refusal }
        return try decoder.decode(type, from: data)
    }

    /// Where `file`'s JSON holds what `readBack` — the same value as a reader decoded it and
    /// wrote it again — does not: a key the reader dropped (one it does not know, or a `null`) or
    /// a value it changed, as a path (`options.gemmWorkForm`); nil when reading kept everything.
    /// Keys `readBack` adds (what a later version reads an earlier file's absence as) are no
    /// matter; numbers compare as numbers (`3` and `3.0` alike).
    public static func unread(in file: Data, readBack: Data) -> String? {
        difference(in: file, from: readBack)
    }

    /// Where `stated`'s JSON holds what `expected`'s does not, as a path (`groups[3].low`): a key
    /// `expected` lacks or a value that differs — a number by more than `relativeTolerance` of the
    /// larger — or "(the top level)"; nil when every value of `stated` is `expected`'s. Keys only
    /// `expected` has are no matter (call it both ways for equality).
    public static func difference(in stated: Data, from expected: Data, relativeTolerance: Double = 0) -> String? {
        guard let original = try? JSONSerialization.jsonObject(with: stated, options: [.fragmentsAllowed]),
            let again = try? JSONSerialization.jsonObject(with: expected, options: [.fragmentsAllowed])
        else { return "(the top level)" }
        func differs(_ a: Any, _ b: Any, _ path: String) -> String? {
            switch (a, b) {
            case (let a as [String: Any], let b as [String: Any]):
                for key in a.keys.sorted() {
                    let inner = path.isEmpty ? key : "\(path).\(key)"
                    guard let value = b[key] else { return inner }
                    if let found = differs(a[key]!, value, inner) { return found }
                }
                return nil
            case (let a as [Any], let b as [Any]):
                guard a.count == b.count else { return path.isEmpty ? "(the top level)" : path }
                for (i, (x, y)) in zip(a, b).enumerated() {
                    if let found = differs(x, y, "\(path)[\(i)]") { return found }
                }
                return nil
            case (let a as String, let b as String): return a == b ? nil : path
            case (let a as NSNumber, let b as NSNumber):
                if a == b { return nil }
                let (x, y) = (a.doubleValue, b.doubleValue)
                return x.isFinite && y.isFinite && abs(x - y) <= relativeTolerance * max(abs(x), abs(y)) ? nil : path
            case (is NSNull, is NSNull): return nil
            default: return path.isEmpty ? "(the top level)" : path
            }
        }
        return differs(original, again, "")
    }

    /// The first key that appears twice in one object of `data`, or comma before a closing
    /// bracket; nil for none. Text that is not JSON is left to the decoder (nil here unless one
    /// came first).
    public static func refusal(in data: Data) -> Refusal? {
        /// An open container: an object's keys so far and whether a key comes next, or an array.
        struct Container {
            var keys: Set<String>?
            var expectingKey = false
        }
        var stack: [Container] = []
        var line = 1
        var comma: Int?  // the line of a comma no value has followed yet
        return data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) -> Refusal? in
            let bytes = buffer.bindMemory(to: UInt8.self)
            var i = 0
            while i < bytes.count {
                let byte = bytes[i]
                switch byte {
                case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"): break
                case UInt8(ascii: "\n"): line += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    if let comma { return Refusal(key: nil, line: comma) }
                    _ = stack.popLast()
                case UInt8(ascii: ","):
                    comma = line
                    if stack.last?.keys != nil { stack[stack.count - 1].expectingKey = true }
                default:
                    comma = nil
                }
                switch byte {
                case UInt8(ascii: "{"): stack.append(Container(keys: [], expectingKey: true))
                case UInt8(ascii: "["): stack.append(Container(keys: nil))
                case UInt8(ascii: "\""):
                    let start = (index: i, line: line)
                    i = closingQuote(bytes, after: i, line: &line)
                    if let top = stack.last, top.expectingKey, let keys = top.keys {
                        // The key as JSON means it (escapes resolved: "a" and "\u0061" are one key).
                        let quoted = Data(bytes[start.index...min(i, bytes.count - 1)])
                        let key =
                            (try? JSONSerialization.jsonObject(with: quoted, options: .fragmentsAllowed)) as? String
                            ?? String(decoding: quoted, as: UTF8.self)
                        if keys.contains(key) { return Refusal(key: key, line: start.line) }
                        stack[stack.count - 1].keys!.insert(key)
                        stack[stack.count - 1].expectingKey = false
                    }
                default: break
                }
                i += 1
            }
            return nil
        }
    }

    /// The index of the quote that closes the string opened at `open` (the end of the bytes if
    /// none does), counting the lines it spans.
    private static func closingQuote(_ bytes: UnsafeBufferPointer<UInt8>, after open: Int, line: inout Int) -> Int {
        var i = open + 1
        while i < bytes.count, bytes[i] != UInt8(ascii: "\"") {
            if bytes[i] == UInt8(ascii: "\n") { line += 1 }
            i += bytes[i] == UInt8(ascii: "\\") ? 2 : 1
        }
        return min(i, bytes.count)
    }
}
