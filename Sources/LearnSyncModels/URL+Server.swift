package import Foundation

extension URL {
    /// Whether this server address and `other` name the same server: `https://host` and
    /// `https://host/` do. A device keeps its token and cursor only for the same server.
    package func isSameServer(as other: URL) -> Bool {
        func plain(_ url: URL) -> Substring {
            let text = url.absoluteString[...]
            return text.hasSuffix("/") ? text.dropLast() : text
        }
        return plain(self) == plain(other)
    }
}
