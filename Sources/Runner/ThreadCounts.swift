import Foundation

/// The thread counts a run measures every configuration at (`--threads 1,2,4,all`): one count, as
/// runs always had, or several, each configuration measured at each as a row of its own
/// (``SweepConfiguration/measured(threads:)``) in the same rounds.
///
/// `all` stands for every PU the run may place a thread on (the cpuset's PUs, or what the placement
/// can place), and caps the other counts; a session resolves it (``resolved(all:)``) before anything is bound, and records the
/// counts it measured. A manifest records one count as a number (as before) and several as a list.
public struct ThreadCounts: Codable, Hashable, Sendable, CustomStringConvertible {
    /// The counts given as numbers, ascending, each once.
    public private(set) var counts: [Int]
    /// Whether `all` was given and is not resolved yet.
    public private(set) var includesAll: Bool

    /// One count.
    public init(_ count: Int) {
        counts = [count]
        includesAll = false
    }

    /// `counts` (ascending, each once) and `all` when `includesAll`; nil when there is none.
    public init?(_ counts: [Int], includesAll: Bool = false) {
        guard !counts.isEmpty || includesAll else { return nil }
        self.counts = Array(Set(counts)).sorted()
        self.includesAll = includesAll
    }

    /// Reads `2`, `1,2,4`, `all` or `1,2,all` (spaces allowed); nil for anything else, a count
    /// below 1 or an empty item.
    public init?(parsing text: String) {
        var numbers: [Int] = []
        var all = false
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let word = item.trimmingCharacters(in: .whitespaces)
            if word == "all" {
                all = true
            } else if let n = Int(word), n >= 1 {
                numbers.append(n)
            } else {
                return nil
            }
        }
        self.init(numbers, includesAll: all)
    }

    /// The counts with `all` as `all` PUs, and those above it dropped (`1,2,4,8,all` on 4 PUs is
    /// 1, 2, 4: all is the ceiling); without all, the counts as given (a session refuses one above
    /// its PUs).
    public func resolved(all: Int) -> ThreadCounts {
        guard includesAll else { return self }
        return ThreadCounts(counts.filter { $0 < all } + [all])!
    }

    /// The largest count (the PUs a run binds and pins); `all` must be resolved first.
    public var most: Int { counts.last ?? 1 }

    /// Whether a count above one may be measured (`all` included, before it is resolved): the
    /// process then needs the quiet environment of ``ComputeThreads``.
    public var mayUseSeveralThreads: Bool { includesAll || most > 1 }

    /// `1,2,all` as given.
    public var description: String { (counts.map(String.init) + (includesAll ? ["all"] : [])).joined(separator: ",") }

    /// Whether every count is from 1 to `limit`; the problem in words otherwise.
    public func problem(limit: Int) -> String? {
        guard let bad = counts.first(where: { !(1...limit).contains($0) }) else { return nil }
        return "must be from 1 to \(limit), got \(bad)"
    }

    /// Reads a count (a number) or several (a list of numbers and `all`), as recorded.
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let one = try? container.decode(Int.self) {
            guard one >= 1 else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(one) threads")
            }
            self.init(one)
            return
        }
        let items = try container.decode([Item].self)
        let numbers = items.compactMap { if case .count(let n) = $0 { n } else { nil } }
        guard numbers.allSatisfy({ $0 >= 1 }),
            let counts = ThreadCounts(numbers, includesAll: items.contains(.all)), counts.counts.count == numbers.count
        else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a list of thread counts")
        }
        self = counts
    }

    /// Writes one count as a number, several as a list.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        if counts.count == 1 && !includesAll {
            try container.encode(counts[0])
        } else {
            try container.encode(counts.map(Item.count) + (includesAll ? [.all] : []))
        }
    }

    /// An item of a recorded list: a count or `all`.
    private enum Item: Codable, Equatable {
        case count(Int)
        case all

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let n = try? container.decode(Int.self) {
                self = .count(n)
            } else if try container.decode(String.self) == "all" {
                self = .all
            } else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "neither a count nor all")
            }
        }

        func encode(to encoder: Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .count(let n): try container.encode(n)
            case .all: try container.encode("all")
            }
        }
    }
}
