import LearnSyncModels

// The hand-written forms of the account and lifecycle requests: every request body is read by
// the same strict reader (duplicate keys refused, integers only), whatever its endpoint.

extension RegisterGuestRequest: WireMessage {
    package static func read(_ reader: inout JSONReader) throws(JSONReader.Failure) -> RegisterGuestRequest {
        var version: Int?, learner: LearnerID?, secret: String?
        try reader.object { reader, key throws(JSONReader.Failure) in
            switch key {
            case "protocol": version = try reader.int()
            case "learner": learner = try reader.identifier(LearnerID.self)
            case "secret": secret = try reader.string()
            default: try reader.skip()
            }
        }
        return RegisterGuestRequest(
            learner: try reader.required(learner, "learner"), secret: try reader.required(secret, "secret"),
            version: try reader.required(version, "protocol"))
    }

    package func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.key("protocol"); writer.int(version)
            writer.key("learner"); writer.string(learner.rawValue)
            writer.key("secret"); writer.string(secret)
        }
    }
}

extension CredentialsRequest: WireMessage {
    package static func read(_ reader: inout JSONReader) throws(JSONReader.Failure) -> CredentialsRequest {
        var version: Int?, username: String?, password: String?, guest: GuestProof?, previous: LearnerID?
        var guestCursor: Int64?, guestCursorMark: Int64?
        try reader.object { reader, key throws(JSONReader.Failure) in
            switch key {
            case "protocol": version = try reader.int()
            case "username": username = try reader.string()
            case "password": password = try reader.string()
            case "guest": guest = try reader.null() ? nil : GuestProof.read(&reader)
            case "previous": previous = try reader.null() ? nil : reader.identifier(LearnerID.self)
            case "guestCursor": guestCursor = try reader.null() ? nil : reader.int64()
            case "guestCursorMark": guestCursorMark = try reader.null() ? nil : reader.int64()
            default: try reader.skip()
            }
        }
        return CredentialsRequest(
            username: try reader.required(username, "username"), password: try reader.required(password, "password"), guest: guest,
            previous: previous, guestCursor: guestCursor, guestCursorMark: guestCursorMark, version: try reader.required(version, "protocol"))
    }

    package func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.key("protocol"); writer.int(version)
            writer.key("username"); writer.string(username)
            writer.key("password"); writer.string(password)
            if let guest {
                writer.key("guest")
                writer.object { writer in
                    writer.key("learner"); writer.string(guest.learner.rawValue)
                    writer.key("secret"); writer.string(guest.secret)
                }
            }
            if let previous {
                writer.key("previous"); writer.string(previous.rawValue)
            }
            if let guestCursor {
                writer.key("guestCursor"); writer.int(guestCursor)
            }
            if let guestCursorMark {
                writer.key("guestCursorMark"); writer.int(guestCursorMark)
            }
        }
    }
}

extension GuestProof {
    static func read(_ reader: inout JSONReader) throws(JSONReader.Failure) -> GuestProof {
        var learner: LearnerID?, secret: String?
        try reader.object { reader, key throws(JSONReader.Failure) in
            switch key {
            case "learner": learner = try reader.identifier(LearnerID.self)
            case "secret": secret = try reader.string()
            default: try reader.skip()
            }
        }
        return GuestProof(learner: try reader.required(learner, "learner"), secret: try reader.required(secret, "secret"))
    }
}

extension SignOutRequest: WireMessage {
    package static func read(_ reader: inout JSONReader) throws(JSONReader.Failure) -> SignOutRequest {
        var version: Int?, everywhere: Bool?
        try reader.object { reader, key throws(JSONReader.Failure) in
            switch key {
            case "protocol": version = try reader.int()
            case "everywhere": everywhere = try reader.null() ? nil : reader.bool()
            default: try reader.skip()
            }
        }
        return SignOutRequest(everywhere: everywhere, version: try reader.required(version, "protocol"))
    }

    package func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.key("protocol"); writer.int(version)
            if let everywhere { writer.key("everywhere"); writer.bool(everywhere) }
        }
    }
}

extension DeleteAccountRequest: WireMessage {
    package static func read(_ reader: inout JSONReader) throws(JSONReader.Failure) -> DeleteAccountRequest {
        var version: Int?, password: String?
        try reader.object { reader, key throws(JSONReader.Failure) in
            switch key {
            case "protocol": version = try reader.int()
            case "password": password = try reader.null() ? nil : reader.string()
            default: try reader.skip()
            }
        }
        return DeleteAccountRequest(password: password, version: try reader.required(version, "protocol"))
    }

    package func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.key("protocol"); writer.int(version)
            if let password { writer.key("password"); writer.string(password) }
        }
    }
}

extension ChangePasswordRequest: WireMessage {
    package static func read(_ reader: inout JSONReader) throws(JSONReader.Failure) -> ChangePasswordRequest {
        var version: Int?, password: String?, newPassword: String?
        try reader.object { reader, key throws(JSONReader.Failure) in
            switch key {
            case "protocol": version = try reader.int()
            case "password": password = try reader.string()
            case "newPassword": newPassword = try reader.string()
            default: try reader.skip()
            }
        }
        return ChangePasswordRequest(
            password: try reader.required(password, "password"), newPassword: try reader.required(newPassword, "newPassword"),
            version: try reader.required(version, "protocol"))
    }

    package func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.key("protocol"); writer.int(version)
            writer.key("password"); writer.string(password)
            writer.key("newPassword"); writer.string(newPassword)
        }
    }
}
