import ArgumentParser
import Foundation
import InstanceProviders
import Logging
import ProviderCLI
import Testing

/// The provider part of the scheduler's `--config` file: its hosts (each its own template if it
/// says so) and placement, with flags winning.
@Suite("provider options from a config file")
struct ProviderOptionsTests {
    static func file(_ json: String) throws -> ProviderOptions.File {
        try JSONDecoder().decode(ProviderOptions.File.self, from: Data(json.utf8))
    }

    func nodes() throws -> (String, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("autoscaler-options-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return (try MultiHostProviderTests.node(directory, "a"), try MultiHostProviderTests.node(directory, "b"))
    }

    @Test func hostsComeFromTheFileEachWithItsTemplate() async throws {
        let (a, b) = try nodes()
        let file = try Self.file(#"{"hosts": ["\#(a)", {"uri": "\#(b)", "template": "other", "label": "b"}], "placement": "pack", "hostMax": 3}"#)
        let options = try ProviderOptions.parse(["--provider", "libvirt", "--template", "tpl"])
        let provider = try #require(try await options.makeProvider(logger: Logger(label: "test"), file: file) as? MultiHostProvider)
        #expect(provider.hosts.map(\.label) == [a, "b"])
        #expect(provider.hosts.map(\.configuration.uri) == [a, b])
        #expect(provider.hosts.map(\.configuration.template) == ["tpl", "other"])
        #expect(provider.placement.rule == .pack && provider.placement.hostMaximum == 3)
        // A flag wins over the file.
        let spread = try ProviderOptions.parse(["--provider", "libvirt", "--placement", "spread"])
        let flagged = try #require(try await spread.makeProvider(logger: Logger(label: "test"), file: file) as? MultiHostProvider)
        #expect(flagged.placement.rule == .spread)
    }

    @Test func uriFlagsReplaceTheFilesHosts() async throws {
        let (a, b) = try nodes()
        let file = try Self.file(#"{"hosts": ["\#(a)", "\#(b)"]}"#)
        let options = try ProviderOptions.parse(["--provider", "libvirt", "--uri", a, "--template", "tpl"])
        let provider = try await options.makeProvider(logger: Logger(label: "test"), file: file)
        #expect(provider is LibvirtProvider)
    }

    @Test(arguments: [
        (#"{"hosts": []}"#, "the config file's hosts list is empty"),
        (#"{"hosts": ["test:///default", "test:///default"]}"#, "a host is given twice in the config file"),
        (#"{"hosts": ["test:///default", "test:///x"], "hostTimeout": -1}"#, "--host-timeout must be 0 to 86400 seconds"),
        (#"{"hosts": ["test:///default", "test:///x"], "hostMax": 0}"#, "hostMax must be ≥ 1"),
    ])
    func badFilesAreUsageErrors(json: String, message: String) throws {
        let options = try ProviderOptions.parse(["--provider", "libvirt"])
        #expect(throws: ValidationError.self) { try options.validate(file: try Self.file(json)) }
        do { try options.validate(file: try Self.file(json)) } catch let error as ValidationError { #expect(error.message == message) }
    }

    @Test func aHostIsAStringOrAnObject() throws {
        #expect(throws: DecodingError.self) { try Self.file(#"{"hosts": [{"template": "t"}]}"#) }
        let file = try Self.file(#"{"hosts": ["qemu:///system", {"uri": "qemu+ssh://h/system"}]}"#)
        #expect(file.hosts?.map(\.uri) == ["qemu:///system", "qemu+ssh://h/system"])
    }
}
