// libFuzzer target for the protocol's JSON reader and writer (built by Tools/fuzz-decoders).
// Each input is read as a sync request, a sync answer and a sign-in; whatever reads must write
// and read back to the same value. A crash, an AddressSanitizer report or a failed
// precondition is a finding.
import Foundation
import LearnSyncModels
import LearnSyncProtocol

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(bytes: start, count: count)
    if let request = try? WireCoding.decodeRequest(SyncRequest.self, from: data) {
        precondition(try! WireCoding.decode(SyncRequest.self, from: try! WireCoding.encode(request)) == request)
    }
    if let answer = try? WireCoding.decode(SyncResponse.self, from: data) {
        precondition(try! WireCoding.decode(SyncResponse.self, from: try! WireCoding.encode(answer)) == answer)
    }
    _ = try? WireCoding.decodeRequest(CredentialsRequest.self, from: data)
    return 0
}
