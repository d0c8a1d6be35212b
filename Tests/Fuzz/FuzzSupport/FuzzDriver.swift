import CFuzzDriver
import Foundation

/// Runs a fuzz target under libFuzzer: `body` gets each input; a crash, a sanitizer report or a
/// failed ``FuzzDriver/require(_:_:)`` is a finding (libFuzzer writes the input to `crash-…`).
///
/// Each target is its own executable, built only when asked for (`scripts/fuzz.sh`).
public enum FuzzDriver {
    nonisolated(unsafe) private static var body: ((inout FuzzInput) -> Void)?

    /// Hands control to libFuzzer with the process's arguments (its flags, corpus directories).
    public static func run(_ body: @escaping (inout FuzzInput) -> Void) -> Never {
        Self.body = body
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        let status = LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            var input = FuzzInput(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
            FuzzDriver.body?(&input)
            return 0
        }
        exit(status)
    }

    /// An invariant of the code under test: when it does not hold, the input is a finding.
    public static func require(_ condition: Bool, _ message: @autoclosure () -> String) {
        guard !condition else { return }
        FileHandle.standardError.write(Data("invariant broken: \(message())\n".utf8))
        abort()
    }
}

/// The bytes of one input, read as choices first and data after.
public struct FuzzInput {
    public private(set) var bytes: ArraySlice<UInt8>

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes[...]
    }

    /// The next byte as a choice (0 when the input is used up).
    public mutating func choice() -> UInt8 {
        bytes.popFirst() ?? 0
    }

    /// The rest of the input.
    public var rest: [UInt8] { Array(bytes) }

    /// The rest of the input as text (invalid UTF-8 repaired, as a server reading it would).
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// The rest of the input in pieces of 1 … `largest` bytes, sized by the choices before them.
    public mutating func chunks(largest: Int) -> [[UInt8]] {
        let size = Int(choice()) % largest + 1
        defer { bytes = [] }
        return stride(from: bytes.startIndex, to: bytes.endIndex, by: size).map { Array(bytes[$0..<min($0 + size, bytes.endIndex)]) }
    }
}
