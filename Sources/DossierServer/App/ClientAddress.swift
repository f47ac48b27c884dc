import Foundation
import Vapor
#if canImport(Glibc)
import Glibc
#endif

/// Who the client is: the peer address, or, when the peer is a configured reverse proxy, the
/// nearest address in `X-Forwarded-For` that is not one of the proxies. An address nobody
/// configured as a proxy cannot claim another client's address by sending the header.
struct ClientAddressResolver: Sendable {
    struct Range: Sendable, Equatable {
        var bytes: [UInt8]
        var prefix: Int

        func contains(_ address: [UInt8]) -> Bool {
            guard address.count == bytes.count else { return false }
            var remaining = prefix
            for (a, b) in zip(address, bytes) where remaining > 0 {
                let bits = min(8, remaining)
                let mask: UInt8 = bits == 8 ? 0xFF : ~(0xFF >> UInt8(bits))
                if a & mask != b & mask { return false }
                remaining -= bits
            }
            return true
        }
    }

    let trusted: [Range]

    init(trustedProxies: [String]) throws {
        trusted = try trustedProxies.map { entry in
            let parts = entry.split(separator: "/", maxSplits: 1).map(String.init)
            guard let bytes = Self.parse(parts[0]) else {
                throw ConfigurationError("DOSSIER_TRUSTED_PROXIES: '\(entry)' is not an IP address or CIDR range")
            }
            let maximum = bytes.count * 8
            var prefix = maximum
            if parts.count == 2 {
                guard let value = Int(parts[1]), (0...maximum).contains(value) else {
                    throw ConfigurationError("DOSSIER_TRUSTED_PROXIES: '\(entry)' has an invalid prefix length")
                }
                prefix = value
            }
            return Range(bytes: bytes, prefix: prefix)
        }
    }

    /// The address bytes of an IPv4 or IPv6 literal (an IPv4-mapped IPv6 address as IPv4).
    static func parse(_ text: String) -> [UInt8]? {
        let trimmed = text.trimmingCharacters(in: CharacterSet(charactersIn: "[] "))
        var v4 = in_addr()
        if inet_pton(AF_INET, trimmed, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, trimmed, &v6) == 1 {
            let bytes = withUnsafeBytes(of: &v6) { Array($0) }
            if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF { return Array(bytes[12...]) }
            return bytes
        }
        return nil
    }

    /// What the throttles count a client by: an IPv4 address, or an IPv6 address's /64 (one
    /// subscriber's whole network, which it can rotate through at will).
    static func throttleKey(_ address: String) -> String {
        guard let bytes = parse(address) else { return address }
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: 8, by: 2).map { String(format: "%02x%02x", bytes[$0], bytes[$0 + 1]) }.joined(separator: ":") + "::/64"
    }

    /// 127.0.0.0/8 or ::1.
    static func isLoopback(_ address: String) -> Bool {
        guard let bytes = parse(address) else { return false }
        return bytes.count == 4 ? bytes[0] == 127 : bytes == Array(repeating: 0, count: 15) + [1]
    }

    func isTrusted(_ address: String) -> Bool {
        guard let bytes = Self.parse(address) else { return false }
        return trusted.contains { $0.contains(bytes) }
    }

    /// The client's address for `peer` and the request's `X-Forwarded-For` values.
    func client(peer: String?, forwardedFor: [String]) -> String {
        guard let peer else { return "unknown" }
        guard !trusted.isEmpty, isTrusted(peer) else { return peer }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        for hop in hops.reversed() {
            guard Self.parse(hop) != nil else { return peer }  // a garbled header: trust only the proxy
            if !isTrusted(hop) { return hop }
        }
        return hops.first ?? peer
    }
}

extension Request {
    /// The client's address, through trusted proxies only.
    var clientAddress: String {
        dossier.clientAddresses.client(peer: remoteAddress?.ipAddress, forwardedFor: headers[.xForwardedFor])
    }
}
