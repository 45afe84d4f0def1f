import Foundation
import PropertyBased
import Testing

@testable import Sweeps

/// Evaluates `text` with the given names.
private func value(_ text: String, _ names: [String: Double] = [:]) throws -> Double {
    try SweepExpression(parsing: text).evaluate { names[$0] }
}

@Suite("Expressions")
struct SweepExpressionTests {
    @Test("* and / bind tighter than + and -, and operators of one level associate to the left")
    func precedence() throws {
        #expect(try value("2 + 3 * 4") == 14)
        #expect(try value("(2 + 3) * 4") == 20)
        #expect(try value("20 - 4 - 3") == 13)
        #expect(try value("100 / 10 / 5") == 2)
        #expect(try value("2 * 3 + 4 * 5") == 26)
        #expect(try value("1 + 300 / K * 2", ["K": 3]) == 201)
        #expect(try value("-2 * 3") == -6)
        #expect(try value("- -4") == 4)
        #expect(try value("2 - -3") == 5)
        #expect(try value("-(1 + 2) * 2") == -6)
        #expect(try value("1e3 / 2.5E1") == 40)
    }

    @Test("×, ÷ and the minus sign − are accepted")
    func unicodeOperators() throws {
        #expect(try value("6 × 7") == 42)
        #expect(try value("300 ÷ K", ["K": 4]) == 75)
        #expect(try value("10 − 4") == 6)
        #expect(try value("−3 + 1") == -2)
    }

    @Test("round is half away from zero; floor and ceil go down and up")
    func rounding() throws {
        #expect(try value("round(300 / 8)") == 38)  // 37.5: the original study truncated to 37
        #expect(try value("round(300 / 19)") == 16)  // the replication's own example
        #expect(try value("round(2.5)") == 3)
        #expect(try value("round(-2.5)") == -3)
        #expect(try value("round(0.49999)") == 0)
        #expect(try value("round(4500 / 7)") == 643)
        #expect(try value("floor(4500 / 7)") == 642)
        #expect(try value("ceil(300 / 7)") == 43)
        #expect(try value("floor(-1.5)") == -2)
        #expect(try value("ceil(-1.5)") == -1)
    }

    @Test("min and max take two or more arguments, any expressions")
    func minMax() throws {
        #expect(try value("min(3, 1, 2)") == 1)
        #expect(try value("max(H, W * 2)", ["H": 5, "W": 3]) == 6)
        #expect(try value("min(max(1, 2), 3) + 1") == 3)
    }

    @Test("names are collected; unknown names are reported when evaluated")
    func names() throws {
        #expect(try SweepExpression(parsing: "round(R / K) + Cin").names == ["R", "K", "Cin"])
        #expect(throws: SweepExpression.Error.self) { try value("X + 1") }
    }

    @Test("division by zero is an error, never infinity")
    func divisionByZero() throws {
        let error = #expect(throws: SweepExpression.Error.self) { try value("300 / (K - 3)", ["K": 3]) }
        #expect(error?.message.contains("division by zero") == true)
    }

    @Test(
        "syntax errors give the offset of the offending character",
        arguments: [
            ("2 +", 3, "ends where a value"), ("(1 + 2", 0, "never closed"), ("2 $ 3", 2, "unexpected '$'"),
            ("sqrt(4)", 0, "unknown function"), ("round(1, 2)", 0, "one argument"), ("min(1)", 0, "two or more"),
            ("1.2.3", 0, "not a number"), ("3 4", 2, "unexpected '4'"), ("", 0, "ends where a value"),
        ])
    func syntaxErrors(text: String, offset: Int, message: String) throws {
        let error = #expect(throws: SweepExpression.Error.self) { try SweepExpression(parsing: text) }
        #expect(error?.offset == offset)
        #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
    }

    @Test("a printed expression parses back to the same value")
    func roundTrip() async {
        await propertyCheck(input: Gen.int(in: -1000...1000).array(of: 4)) { numbers in
            let text = "\(numbers[0]) + \(numbers[1]) * (\(numbers[2]) - \(numbers[3]))"
            let parsed = try SweepExpression(parsing: text)
            let expected = Double(numbers[0] + numbers[1] * (numbers[2] - numbers[3]))
            #expect(try parsed.evaluate { _ in nil } == expected)
            #expect(try SweepExpression(parsing: parsed.description).evaluate { _ in nil } == expected)
        }
    }

    @Test("a hostile expression is an error within its limits, never a stack overflow or infinity")
    func limits() throws {
        let nested = String(repeating: "(", count: 10_000) + "1" + String(repeating: ")", count: 10_000)
        #expect(throws: SweepExpression.Error.self) { try SweepExpression(parsing: nested) }
        let signs = String(repeating: "-", count: 10_000) + "1"
        #expect(throws: SweepExpression.Error.self) { try SweepExpression(parsing: signs) }
        let sum = "1" + String(repeating: "+1", count: 50_000)
        #expect {
            try SweepExpression(parsing: sum)
        } throws: { error in
            (error as? SweepExpression.Error)?.message.contains("more than 1000 operations") == true
        }
        // Within the limits: 64 levels and 1,000 operations read.
        let deep = String(repeating: "(", count: 60) + "2" + String(repeating: ")", count: 60)
        #expect(try value(deep) == 2)
        #expect(try value("1" + String(repeating: "+1", count: 499)) == 500)
        #expect(throws: SweepExpression.Error.self) { try value("1e300 * 1e300") }
        #expect(throws: SweepExpression.Error.self) { try value("1e200 * 1e200 * 1e200") }
    }
}
