import Foundation
import Hummingbird
import NIOCore

/// The dashboard's files (HTML, CSS, JavaScript), read once from the package's resources; no CDN,
/// no external fonts, so it works offline.
struct Dashboard: Sendable {
    struct File: Sendable {
        let contentType: String
        let bytes: ByteBuffer
    }

    let files: [String: File]

    init() {
        var files: [String: File] = [:]
        let types = ["index.html": "text/html; charset=utf-8", "dashboard.css": "text/css; charset=utf-8", "dashboard.js": "text/javascript; charset=utf-8"]
        if let directory = Bundle.module.url(forResource: "dashboard", withExtension: nil) {
            for (name, type) in types {
                if let data = try? Data(contentsOf: directory.appendingPathComponent(name)) {
                    files[name] = File(contentType: type, bytes: ByteBuffer(bytes: data))
                }
            }
        }
        self.files = files
    }

    func response(_ name: String) -> Response {
        guard let file = files[name] else {
            return Response(status: .notFound, body: .init(byteBuffer: ByteBuffer(string: "dashboard file \(name) missing from the build\n")))
        }
        return Response(
            status: .ok, headers: [.contentType: file.contentType, .cacheControl: "no-cache"], body: .init(byteBuffer: file.bytes))
    }
}
