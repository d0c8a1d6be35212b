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

    /// `token` goes into index.html as `<meta name="autoscaler-token">`, for the scale buttons.
    init(token: String? = nil) {
        var files: [String: File] = [:]
        let types = ["index.html": "text/html; charset=utf-8", "dashboard.css": "text/css; charset=utf-8", "dashboard.js": "text/javascript; charset=utf-8"]
        if let directory = Bundle.module.url(forResource: "dashboard", withExtension: nil) {
            for (name, type) in types {
                if var data = try? Data(contentsOf: directory.appendingPathComponent(name)) {
                    if name == "index.html", let token, token.allSatisfy({ $0.isLetter || $0.isNumber || "-_.~".contains($0) }) {
                        let page = String(decoding: data, as: UTF8.self).replacingOccurrences(
                            of: "<meta charset=\"utf-8\">", with: "<meta charset=\"utf-8\">\n<meta name=\"autoscaler-token\" content=\"\(token)\">")
                        data = Data(page.utf8)
                    }
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
        // Never in a frame (a page could trick clicks on the scale buttons) nor in a shared cache.
        return Response(
            status: .ok,
            headers: [.contentType: file.contentType, .cacheControl: "no-store", .contentSecurityPolicy: "frame-ancestors 'none'"],
            body: .init(byteBuffer: file.bytes))
    }
}
