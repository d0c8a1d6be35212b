/// Text for the live status line and the final summary.
public enum StatusLine {
    /// `[  12s] sent 120  ok 118  errors 2 (http5xx 2)  skipped 0  rate 10.0/s  p50 3.1 ms  p99 12.4 ms`
    public static func format(_ figures: StatusFigures, elapsed: Double, intervalSeconds: Double) -> String {
        let errors = figures.errors.values.reduce(0, +)
        var line = "[\(pad(elapsed.formatted(decimals: 0), 5))s] sent \(figures.sent)  ok \(figures.ok)  errors \(errors)"
        if errors > 0 { line += " (\(kinds(figures.errors)))" }
        line += "  skipped \(figures.skippedAtCap)"
        let rate = intervalSeconds > 0 ? Double(figures.intervalAnswers) / intervalSeconds : 0
        line += "  rate \(rate.formatted(decimals: 1))/s"
        line += "  p50 \(figures.p50Milliseconds.map { "\($0.formatted(decimals: 1)) ms" } ?? "-")"
        line += "  p99 \(figures.p99Milliseconds.map { "\($0.formatted(decimals: 1)) ms" } ?? "-")"
        return line
    }

    /// The multi-line summary printed at the end.
    public static func summary(_ report: LoadReport) -> String {
        let l = report.latencyMilliseconds
        var lines = [
            "clientsim summary: \(report.target), \(report.pattern), \(report.seconds.formatted(decimals: 1)) s",
            "  requests   scheduled \(report.scheduled)  sent \(report.sent)  ok \(report.ok)  errors \(report.errorsTotal)  skipped at cap \(report.skippedAtCap)",
            "  rate       \(report.achievedRate.formatted(decimals: 1)) req/s sent",
            "  latency    p50 \(ms(l.p50))  p90 \(ms(l.p90))  p99 \(ms(l.p99))  p99.9 \(ms(l.p999))  max \(ms(l.max))  (from scheduled time)",
        ]
        if report.errorsTotal > 0 { lines.append("  errors     \(kinds(report.errors))") }
        if !report.instances.isEmpty {
            let spread = report.instances.sorted { $0.key.naturallyPrecedes($1.key) }.map { "\($0.key) \($0.value)" }
            lines.append("  instances  " + spread.joined(separator: "  "))
        }
        return lines.joined(separator: "\n")
    }

    static func kinds(_ errors: [ErrorKind: Int]) -> String {
        ErrorKind.allCases.compactMap { kind in errors[kind].map { "\(kind.rawValue) \($0)" } }.joined(separator: ", ")
    }

    static func ms(_ value: Double) -> String { "\(value.formatted(decimals: 1)) ms" }

    static func pad(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }
}

extension String {
    /// Natural order (`web_vm2` before `web_vm10`) without Foundation.
    func naturallyPrecedes(_ other: String) -> Bool {
        let (a, b) = (splitDigits(self), splitDigits(other))
        return a.prefix == b.prefix ? a.number < b.number : self < other
    }

    private func splitDigits(_ text: String) -> (prefix: Substring, number: Int) {
        let digits = text.reversed().prefix { $0.isNumber }.count
        return (text.dropLast(digits), Int(text.suffix(digits)) ?? -1)
    }
}
