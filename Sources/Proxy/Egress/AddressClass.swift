/// What an address is, for deciding whether a destination supplied through the admin API may
/// receive traffic. Only `.public` addresses may, unless `spanway_settings.allowed_egress`
/// allows more.
public enum AddressClass: String, Sendable, CaseIterable {
    case `public`
    /// A cloud provider's instance-metadata service: it hands out credentials to whoever asks.
    case metadata
    /// 169.254.0.0/16, fe80::/10.
    case linkLocal
    /// 127.0.0.0/8, ::1.
    case loopback
    /// 10/8, 172.16/12, 192.168/16, fc00::/7 (and the deprecated fec0::/10).
    case `private`
    /// 0.0.0.0/8, `::`: "this host" to most stacks.
    case unspecified
    /// 100.64.0.0/10, carrier-grade NAT: inside a provider's network.
    case sharedAddressSpace
    /// Multicast, broadcast and the ranges set aside for protocols and benchmarks.
    case reserved

    /// How refusals describe it.
    public var label: String {
        switch self {
        case .public: "a public address"
        case .metadata: "a cloud metadata service"
        case .linkLocal: "a link-local address"
        case .loopback: "a loopback address"
        case .private: "a private address"
        case .unspecified: "an unspecified address"
        case .sharedAddressSpace: "a carrier-grade NAT address (100.64.0.0/10)"
        case .reserved: "a reserved address"
        }
    }

    /// Instance-metadata endpoints that are not already link-local: Alibaba's, and AWS's IPv6 ones.
    static let metadataAddresses: Set<IPAddress> = [
        .v4(0xA9FE_A9FE),  // 169.254.169.254: AWS, GCP, Azure, OCI, DigitalOcean, OpenStack
        .v4(0xA9FE_AA02),  // 169.254.170.2: ECS task metadata and credentials
        .v4(0xA9FE_AA17),  // 169.254.170.23: EKS pod identity
        .v4(0x6464_64C8),  // 100.100.100.200: Alibaba Cloud
        .v6(0xFD00_0EC2_0000_0000_0000_0000_0000_0254),  // fd00:ec2::254: AWS over IPv6
        .v6(0xFD00_0EC2_0000_0000_0000_0000_0000_0023),  // fd00:ec2::23: EKS pod identity over IPv6
    ]

    /// Host names of metadata services, refused whatever they resolve to here.
    static let metadataNames: Set<String> = [
        "metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal",
        "metadata.azure.com", "metadata.tencentyun.com", "metadata.platformequinix.com",
    ]

    public static func of(_ address: IPAddress) -> AddressClass {
        if metadataAddresses.contains(address) { return .metadata }
        switch address {
        case .v4(let value): return of(v4: value)
        case .v6(let value): return of(v6: value)
        }
    }

    static func of(v4 value: UInt32) -> AddressClass {
        func within(_ network: UInt32, _ prefix: UInt32) -> Bool { value >> (32 - prefix) == network >> (32 - prefix) }
        if metadataAddresses.contains(.v4(value)) { return .metadata }
        if within(0x0000_0000, 8) { return .unspecified }
        if within(0x7F00_0000, 8) { return .loopback }
        if within(0x0A00_0000, 8) || within(0xAC10_0000, 12) || within(0xC0A8_0000, 16) { return .private }
        if within(0x6440_0000, 10) { return .sharedAddressSpace }
        if within(0xA9FE_0000, 16) { return .linkLocal }
        // 192.0.0/24 (protocol assignments), 198.18/15 (benchmarking), 224/4 (multicast), 240/4
        // (reserved, with the broadcast address).
        if within(0xC000_0000, 24) || within(0xC612_0000, 15) || within(0xE000_0000, 4) || within(0xF000_0000, 4) {
            return .reserved
        }
        return .public
    }

    static func of(v6 value: UInt128) -> AddressClass {
        func within(_ network: UInt128, _ prefix: UInt128) -> Bool { value >> (128 - prefix) == network >> (128 - prefix) }
        let embedded = UInt32(truncatingIfNeeded: value)
        if metadataAddresses.contains(.v6(value)) { return .metadata }
        if value == 0 { return .unspecified }
        if value == 1 { return .loopback }
        // IPv4-mapped (::ffff:0:0/96), IPv4-compatible (::/96) and NAT64 (64:ff9b::/96) addresses
        // reach the IPv4 address inside them: they are what that address is.
        if within(0x0000_0000_0000_0000_0000_FFFF_0000_0000, 96) || within(0, 96)
            || within(0x0064_FF9B_0000_0000_0000_0000_0000_0000, 96)
        {
            return of(.v4(embedded))
        }
        // 6to4 (2002::/16) carries an IPv4 address in its next 32 bits.
        if within(0x2002_0000_0000_0000_0000_0000_0000_0000, 16) {
            return of(.v4(UInt32(truncatingIfNeeded: value >> 80)))
        }
        if within(0xFE80_0000_0000_0000_0000_0000_0000_0000, 10) { return .linkLocal }
        if within(0xFEC0_0000_0000_0000_0000_0000_0000_0000, 10) || within(0xFC00_0000_0000_0000_0000_0000_0000_0000, 7)
            || within(0x0064_FF9B_0001_0000_0000_0000_0000_0000, 48)
        {
            return .private
        }
        // Multicast, the discard prefix and the documentation prefix.
        if within(0xFF00_0000_0000_0000_0000_0000_0000_0000, 8) || within(0x0100_0000_0000_0000_0000_0000_0000_0000, 64)
            || within(0x2001_0DB8_0000_0000_0000_0000_0000_0000, 32)
        {
            return .reserved
        }
        return .public
    }

    /// What a host name alone says, before any resolution: metadata services and `localhost`.
    static func of(name: String) -> AddressClass? {
        if metadataNames.contains(name) { return .metadata }
        if name == "localhost" || name.hasSuffix(".localhost") || name == "localhost.localdomain" { return .loopback }
        return nil
    }
}
