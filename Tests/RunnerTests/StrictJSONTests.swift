import Basics
import Foundation
import Testing

/// JSON with a key written twice is refused wherever convsweep reads a file back: readers disagree
/// on which value such an object holds.
@Suite struct StrictJSONTests {
    func duplicate(_ text: String) -> StrictJSON.Refusal? { StrictJSON.refusal(in: Data(text.utf8)) }

    @Test func aKeyTwiceInOneObjectIsFoundWithItsLine() {
        #expect(duplicate("{\n  \"a\": 1,\n  \"b\": 2,\n  \"a\": 3\n}").map { [$0.key, "\($0.line)"] } == ["a", "4"])
        // Spelled with an escape, it is the same key.
        #expect(duplicate(#"{"nrmse": 1, "nrms\u0065": 2}"#)?.key == "nrmse")
        // In a nested object, below an array.
        #expect(duplicate(#"{"fits": [{"group": "K=1"}, {"group": "K>1", "n": 1, "n": 2}]}"#)?.key == "n")
    }

    /// Fuzz seed 14: a comma inserted before a closing brace, which Foundation's decoder read and
    /// Python's refused.
    @Test func aCommaBeforeAClosingBracketIsRefusedWithItsLine() {
        let refusal = duplicate("{\n  \"a\": [1, 2],\n  ,     }")
        #expect(refusal?.key == nil && refusal?.line == 3)
        #expect(duplicate("[1, 2,\n]")?.line == 1)
        #expect(refusal?.description == "line 3: a comma before a closing bracket is not JSON (readers disagree on it)")
        // A comma inside a string is text.
        #expect(duplicate(#"{"a": ",}", "b": [",]"]}"#) == nil)
    }

    @Test func theSameKeyInOtherObjectsOrAsAValueIsNoDuplicate() {
        #expect(duplicate(#"{"a": {"a": 1}, "b": [{"a": 2}, {"a": 3}], "c": "a", "d": ["a", "a"]}"#) == nil)
        // Quotes, commas and braces inside strings are text.
        #expect(duplicate(#"{"a": "x\", \"a\": {", "b": "}", "c": "\\"}"#) == nil)
        #expect(duplicate("not json at all") == nil)
    }

    @Test func decodingRefusesTheDuplicateAndReadsTheRest() throws {
        struct Value: Decodable, Equatable { var a: Int }
        #expect(try StrictJSON.decode(Value.self, from: Data(#"{"a": 1}"#.utf8)) == Value(a: 1))
        let error = #expect(throws: StrictJSON.Refusal.self) {
            try StrictJSON.decode(Value.self, from: Data("{\"a\": 1,\n\"a\": 2}".utf8))
        }
        #expect(error?.description.hasPrefix("line 2, field a: the key appears twice") == true)
    }

    @Test func whatReadingDropsOrChangesIsNamedAndWhatItAddsIsNot() {
        func unread(_ file: String, _ again: String) -> String? {
            StrictJSON.unread(in: Data(file.utf8), readBack: Data(again.utf8))
        }
        #expect(unread(#"{"a": 1, "b": {"c": [1, 2]}}"#, #"{"a": 1.0, "b": {"c": [1, 2]}, "d": 0}"#) == nil)
        #expect(unread(#"{"options": {"gemmW'rkForm": 4}}"#, #"{"options": {}}"#) == "options.gemmW'rkForm")
        #expect(unread(#"{"fits": [{"n": 3}]}"#, #"{"fits": [{"n": 4}]}"#) == "fits[0].n")
        #expect(unread(#"{"a": null}"#, #"{}"#) == "a")
        #expect(unread(#"{"a": [1, 2]}"#, #"{"a": [1]}"#) == "a")
    }
}
