import Testing

@testable import KBCore

@Suite struct TextSearchTests {
  @Test(arguments: [
    ("send us a dm please", "dm", true),
    ("send us a dm", "a dm", true),  // at the end
    ("dm us", "dm us", true),  // the whole text
    ("ddm", "dm", true),  // the first byte repeats before the match
    ("aaab", "aab", true),
    ("dm", "dm us", false),  // longer than the text
    ("", "x", false),
    ("anything", "", true),
    ("café crème", "é cr", true),  // multi-byte UTF-8
    ("cafe creme", "é", false),
    ("password: hunter2", "password:", true),
    ("pass word:", "password:", false),
  ])
  func containsBytes(text: String, needle: String, expected: Bool) {
    #expect(text.containsBytes(needle) == expected)
    // The same answer as Foundation's literal search on these ASCII-or-composed strings.
    #expect(text.containsBytes(needle) == (needle.isEmpty || text.utf8.firstRange(of: needle.utf8) != nil))
  }

  @Test func substringsWork() {
    let long = String(repeating: "ab", count: 5000) + "needle"
    #expect(long.containsBytes("needle"))
    #expect(!long.containsBytes("needles"))
    #expect(String(long.dropFirst(3)).containsBytes("bab"))
  }
}
