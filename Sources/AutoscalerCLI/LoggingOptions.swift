import ArgumentParser
import Logging

/// `--log-level`, and the swift-log set-up every command shares: plain lines on stderr.
public struct LoggingOptions: ParsableArguments, Sendable {
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (default info).")
    public var logLevel: Logger.Level?

    public init() {}

    /// Installs the stderr log handler at the chosen level (the flag, else `fileLevel` from a
    /// config file, else info); call once, first thing in `run`.
    public func bootstrap(label: String, fileLevel: Logger.Level? = nil) -> Logger {
        let level = logLevel ?? fileLevel ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: label)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
