import Foundation
import Hummingbird
import HummingbirdTesting
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncServer
import LearnSyncTesting
import Testing

/// Guessing is counted before bcrypt, slowed without locking out the owner, and bounded in CPU;
/// one password rule holds byte for byte.
@Suite struct PasswordDefenseTests {
    @Test func parallelGuessesCannotOutrunTheLimit() async throws {
        let server = try TestServer()
        try await server.test { client in
            _ = try await client.signUp("target")
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for index in 0..<30 {
                    group.addTask { try await client.signIn("target", password: "wrong guess \(index)").status }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            let checked = statuses.filter { $0 == .unauthorized }.count
            #expect(checked <= 5, "only 5 guesses may reach bcrypt, \(checked) did")
            #expect(statuses.filter { $0 == .tooManyRequests }.count == 30 - checked)
        }
    }

    @Test func theRightPasswordWaitsAtMostThirtySecondsUnderAttack() async throws {
        let server = try TestServer()
        let clock = server.clock
        try await server.test { client in
            _ = try await client.signUp("owner")
            var longestWait = 0
            // An attacker guesses as fast as the throttle lets it, 20 times.
            for guess in 0..<20 {
                let response = try await client.signIn("owner", password: "guess number \(guess)")
                if response.status == .tooManyRequests {
                    let wait = try #require(response.problem?.retryAfter)
                    #expect(response.headers[.retryAfter] == "\(wait)")
                    longestWait = max(longestWait, wait)
                    clock.advance(milliseconds: Int64(wait) * 1000)
                }
            }
            #expect(longestWait <= 30 && longestWait >= 16, "the delay doubles up to 30 s: \(longestWait)")
            // The owner arrives: at most one wait of at most 30 s, then in.
            var response = try await client.signIn("owner")
            if response.status == .tooManyRequests {
                let wait = try #require(response.problem?.retryAfter)
                #expect(wait <= 30)
                clock.advance(milliseconds: Int64(wait) * 1000)
                response = try await client.signIn("owner")
            }
            #expect(response.status == .ok)
            // Success forgets the username's failures.
            #expect(try await client.signIn("owner", password: "one more wrong one").status == .unauthorized)
        }
    }

    /// An attacker polling wrong passwords every 50 ms from other addresses, for 90 s, never
    /// keeps the owner out: the owner's right password from an address it signed in from gets
    /// in at every try, while the attack gets one guess per 30 s in all.
    @Test func aGuessingAttackNeverLocksTheOwnerOut() async throws {
        let server = try TestServer()
        let service = server.service, clock = server.clock
        let owner = CredentialsRequest(username: "owner", password: "a long password", guest: nil)
        _ = try await service.signUp(owner, address: "203.0.113.7")
        _ = try await service.signIn(owner, address: "203.0.113.7")
        var guessed = 0, ownerIn = 0
        for tick in 0..<1800 {
            clock.advance(milliseconds: 50)
            let guess = CredentialsRequest(username: "owner", password: "guess number \(tick)", guest: nil)
            do {
                _ = try await service.signIn(guess, address: "198.51.100.\(tick % 200)")
                Issue.record("a wrong password got in")
            } catch let problem as Problem {
                if problem.knownCode == .unauthorized { guessed += 1 } else { #expect(problem.knownCode == .rateLimited) }
            }
            if tick % 300 == 299 {
                _ = try await service.signIn(owner, address: "203.0.113.7")
                ownerIn += 1
            }
        }
        #expect(ownerIn == 6)
        // 5 free, then one per 1, 2, 4, 8, 16 s and every 30 s after: about 10 in 90 s.
        #expect(guessed <= 12, "\(guessed) guesses reached bcrypt in 90 s")
    }

    @Test func signUpsAreLimitedPerAddress() async throws {
        let server = try TestServer()
        try await server.test { client in
            var statuses = [HTTPResponse.Status]()
            for index in 0..<22 {
                statuses.append(try await client.post(
                    "/v1/accounts", json: CredentialsRequest(username: "farm-\(index)", password: "a long password", guest: nil)).status)
            }
            #expect(statuses.prefix(20).allSatisfy { $0 == .created })
            #expect(statuses.suffix(2).allSatisfy { $0 == .tooManyRequests })
        }
    }

    /// A sign-in for an unknown username from address `10.0.0.<index>`: "busy" when bcrypt's
    /// queue refused it, else the problem's code.
    static func strangersSignIn(_ service: SyncService, _ index: Int) async -> String {
        do {
            _ = try await service.signIn(CredentialsRequest(username: "nobody-\(index)", password: "a long password", guest: nil), address: "10.0.0.\(index)")
            return "ok"
        } catch let problem as Problem {
            return problem.detail.contains("busy") ? "busy" : problem.code
        } catch {
            return "error"
        }
    }

    @Test func bcryptIsBoundedAndRefusesBeyondItsQueue() async throws {
        let service = SyncService(
            store: try SQLiteServerStore(), catalog: try SampleCatalog.load(), passwordCost: 10, passwordConcurrency: 1, passwordQueue: 2)
        let outcomes = await withTaskGroup(of: String.self) { group in
            for index in 0..<12 {
                group.addTask { await Self.strangersSignIn(service, index) }
            }
            return await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == "busy" }.count >= 6, "\(outcomes)")
        #expect(outcomes.filter { $0 == "unauthorized" }.count >= 3, "\(outcomes)")
    }

    /// A flood that fills bcrypt's queue keeps the owner out of nothing: from the address it
    /// signed up from, its check waits ahead of the queue instead of being refused "busy", and
    /// the flood's "busy" answers count as no failure of anyone's.
    @Test func aFloodOfChecksDoesNotCrowdOutTheOwner() async throws {
        let service = SyncService(
            store: try SQLiteServerStore(), catalog: try SampleCatalog.load(), passwordCost: 10, passwordConcurrency: 1, passwordQueue: 0)
        let owner = CredentialsRequest(username: "owner", password: "a long password", guest: nil)
        _ = try await service.signUp(owner, address: "203.0.113.7")
        let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<16 {
                group.addTask { await Self.strangersSignIn(service, index) }
            }
            for _ in 0..<3 {
                group.addTask {
                    _ = try await service.signIn(owner, address: "203.0.113.7")
                    return "owner"
                }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == "owner" }.count == 3, "\(outcomes)")
        #expect(outcomes.contains("busy"), "the flood filled the queue: \(outcomes)")
    }

    @Test func onePasswordRuleHoldsByteForByte() async throws {
        let server = try TestServer()
        try await server.test { client in
            // Composed at sign-up, decomposed at sign-in: the same password.
            let composed = "caf\u{E9} au lait", decomposed = "cafe\u{301} au lait"
            #expect(try await client.post("/v1/accounts", json: CredentialsRequest(username: "unicode", password: composed, guest: nil)).status == .created)
            #expect(try await client.signIn("unicode", password: decomposed).status == .ok)
            // What C or bcrypt would silently cut is refused, or counted whole.
            for (password, why) in [
                ("a long password\u{0}and the rest", "NUL"), ("tab\tinside password", "control"),
                (String(repeating: "a", count: 129), "129 characters"), ("ab\u{20AC}x\u{1F600}", "5 characters"),
            ] {
                let response = try await client.post("/v1/accounts", json: CredentialsRequest(username: "rules", password: password, guest: nil))
                #expect(response.status == .badRequest && response.problem?.code == "invalid-request", "\(why)")
                #expect(response.problem?.detail.contains(password) == false)
            }
            // Passwords that differ only after bcrypt's 72 bytes are different passwords.
            let long = String(repeating: "\u{E9}", count: 100)
            #expect(try await client.post("/v1/accounts", json: CredentialsRequest(username: "multibyte", password: long + "a", guest: nil)).status == .created)
            #expect(try await client.signIn("multibyte", password: long + "b").status == .unauthorized)
            #expect(try await client.signIn("multibyte", password: long + "a").status == .ok)
        }
    }
}

@Suite struct ClientAddressTests {
    @Test func onlyATrustedProxyNamesTheClient() {
        let trusted: Set<String> = ["10.0.0.1", "10.0.0.2"]
        #expect(clientAddress(peer: "203.0.113.9", forwardedFor: "1.2.3.4", trusted: trusted) == "203.0.113.9", "an untrusted peer's claim is ignored")
        #expect(clientAddress(peer: "10.0.0.1", forwardedFor: "1.2.3.4", trusted: trusted) == "1.2.3.4")
        #expect(clientAddress(peer: "10.0.0.1", forwardedFor: "6.6.6.6, 1.2.3.4, 10.0.0.2", trusted: trusted) == "1.2.3.4", "the last hop not a proxy; earlier hops are the client's claims")
        #expect(clientAddress(peer: "10.0.0.1", forwardedFor: "", trusted: trusted) == "10.0.0.1")
    }
}
