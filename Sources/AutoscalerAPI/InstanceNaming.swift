import Foundation

/// Names new instances `<prefix><N>` with the smallest free N, as the original named `web_vm<N>`.
public struct InstanceNaming: Sendable, Hashable {
    /// Default `web_vm`.
    public var prefix: String

    public init(prefix: String = "web_vm") {
        self.prefix = prefix
    }

    /// The number in `name` when it is `<prefix><N>`.
    public func number(of name: String) -> Int? {
        guard name.hasPrefix(prefix) else { return nil }
        let digits = name.dropFirst(prefix.count)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), digits.first != "0" else { return nil }
        return Int(digits)
    }

    /// The first `<prefix><N>` (N ≥ 1) not in `taken`.
    public func nextName(notIn taken: some Sequence<String>) -> String {
        let used = Set(taken.compactMap(number(of:)))
        var candidate = 1
        while used.contains(candidate) { candidate += 1 }
        return "\(prefix)\(candidate)"
    }

    /// Whether `name` can name an instance: a domain name and a file name at once.
    public static func isValid(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == ".") }
            && !name.hasPrefix(".") && !name.hasPrefix("-")
    }
}

/// How old an instance is, for the rule "scale-in removes the newest instance the autoscaler
/// created": the later creation time is newer, and on a tie (no time recorded, or a coarse clock)
/// the higher trailing number, so that `web_vm10` is newer than `web_vm9` (a comparison of the
/// names as strings says the opposite).
public struct InstanceAge: Comparable, Sendable {
    let createdAt: Date
    let number: Int
    let name: String

    public init(createdAt: Date?, name: String) {
        self.createdAt = createdAt ?? .distantPast
        self.number = Int(String(name.reversed().prefix { $0.isNumber }.reversed())) ?? 0
        self.name = name
    }

    public static func < (lhs: InstanceAge, rhs: InstanceAge) -> Bool {
        (lhs.createdAt, lhs.number, lhs.name) < (rhs.createdAt, rhs.number, rhs.name)
    }
}
