import Foundation
import KBTestSupport
import Testing

@testable import KBSync

/// Policies of issue 14 that need no remote: the team branch decision, URL redaction, and
/// where a token may be sent.
@Suite struct HardeningUnitTests {
  @Test func teamBranchFollowsTheRemotesHEADAndNeverAddsASecond() throws {
    typealias A = TeamBranch.Advertised
    #expect(try TeamBranch.choose(local: "master", A(head: "main", branches: ["main"]), url: "u") == "main")
    #expect(try TeamBranch.choose(local: "master", A(head: "main", branches: []), url: "u") == "main")
    #expect(try TeamBranch.choose(local: "master", A(head: nil, branches: []), url: "u") == "master")
    #expect(try TeamBranch.choose(local: "main", A(head: "main", branches: ["master"]), url: "u") == "master")
    #expect(try TeamBranch.choose(local: "dev", A(head: nil, branches: ["dev", "main"]), url: "u") == "dev")
    #expect(throws: SyncError.self) { try TeamBranch.choose(local: "main", A(head: nil, branches: ["a", "b"]), url: "u") }
  }

  @Test func passwordsAreRemovedFromURLsAndMessages() {
    #expect(KBRepository.redacted("https://user:SECRET@host/x.git") == "https://user@host/x.git")
    #expect(KBRepository.redacted("https://host/x.git") == "https://host/x.git")
    #expect(KBRepository.redacted("ssh://git@host/x") == "ssh://git@host/x")
    #expect(KBRepository.redacted("/srv/kb/team.git") == "/srv/kb/team.git")
    let message = "failed to reach 'https://u:p%40ss@h.example:8443/a.git': 404; and http://a:b@c/d"
    let scrubbed = KBRepository.scrubCredentials(in: message)
    #expect(!scrubbed.contains("p%40ss") && !scrubbed.contains(":b@") && scrubbed.contains("https://u@h.example:8443/a.git"))
    let error = SyncError.unreachable(url: "https://u:SECRET@h/x.git", reason: "at https://u:SECRET@h/x.git", committed: nil)
    #expect(!error.description.contains("SECRET"))
  }

  @Test func tokensGoOnlyOverHTTPSOrToThisMachine() {
    #expect(CallbackState.tokenRefusal(url: "https://git.example.com/x.git", environment: [:]) == nil)
    #expect(CallbackState.tokenRefusal(url: "http://127.0.0.1:8080/x.git", environment: [:]) == nil)
    #expect(CallbackState.tokenRefusal(url: "http://localhost/x.git", environment: [:]) == nil)
    #expect(CallbackState.tokenRefusal(url: "http://git.example.com/x.git", environment: [:])?.contains("https") == true)
    #expect(CallbackState.tokenRefusal(url: "http://git.example.com/x.git", environment: ["KB_GIT_ALLOW_HTTP": "1"]) == nil)
  }
}
