import ArgumentParser
import SchedulerCLI

@main
struct SchedulerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "The control loop that scales web server instances with their load, and its simulator.",
        subcommands: [Serve.self, Simulate.self], defaultSubcommand: Serve.self)
}
