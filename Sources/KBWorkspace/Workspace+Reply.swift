import Foundation
import KBCore
internal import KBStore

/// A reply to a case's customer, drafted from its complaint (a help desk's macro): what
/// `kb case reply` shows before it is sent, and what the MCP tool `case_reply` returns.
public struct CaseReply: Codable, Sendable {
  /// The case.
  public var id: String
  public var customer: String?
  public var channel: String?
  /// The status now, and the one logging the reply moves it to.
  public var status: String
  public var nextStatus: String
  /// The answer the reply gives (`--answer`, or the known fix found for the complaint).
  public var answer: String?
  /// What `kb suggest` made of the complaint (absent with `--answer` or given text).
  public var verdict: SuggestionResult.Verdict?
  public var guards: [MentionGuard]
  /// The words to send (with the customer's handle and the signature).
  public var text: String
  /// `acted` when the reply gives a fix, else `acknowledged`.
  public var kind: String
  /// The draft as `kb suggest` wrote it (absent for given text).
  public var draft: ReplyDraft?
  /// Said when the draft is not in the customer's language, or the reply is over the limit.
  public var notes: [String]

  enum CodingKeys: String, CodingKey {
    case id, customer, channel, status, answer, verdict, guards, text, kind, draft, notes
    case nextStatus = "next_status"
  }
}

extension Workspace {
  /// Drafts the reply to a case's customer: for the complaint (the case's block quote), the
  /// known fix's customer-facing words (``suggest(_:options:templates:using:)``), or those of
  /// `answer` when given, or `text` as written. Writes nothing.
  ///
  /// - Throws: for a case that is closed, a post by our own account, an `answer` that is not an
  ///   answer, or a complaint whose guards say not to reply in public (a threat, a trend that is
  ///   not ours) when no `text` is given.
  public func draftCaseReply(caseID: String, answer: String? = nil, text: String? = nil, agent: Identity?) throws -> CaseReply {
    let document = try caseDocument(id: caseID)
    let status = document.status ?? .open
    guard status != .closed else {
      throw WorkspaceError.invalidInput(
        "Case '\(document.id)' is closed: reopen it first (kb case log \(document.id) --kind reopened \"why\").")
    }
    // Only a handle is shown to a customer: never an internal id such as x:2244994945.
    let customer = document.customer.flatMap { $0.hasPrefix("@") ? $0 : nil }
    if let ours = settings.ownHandle(document.customer, channel: document.channel) {
      throw WorkspaceError.invalidInput("Case '\(document.id)' is a post by our own account \(ours): there is no one to reply to.")
    }
    let complaint = document.complaint ?? ""
    var mention = Mention(text: complaint.isEmpty ? document.title : complaint, author: customer, channel: document.channel)
    mention.url = document.source
    var answerID = answer
    var verdict: SuggestionResult.Verdict?
    var draft: ReplyDraft?
    var guards: [MentionGuard] = []
    var notes: [String] = []
    let options = SuggestOptions(limit: 3, channel: document.channel, agent: agent)
    if let given = text?.trimmingCharacters(in: .whitespacesAndNewlines), !given.isEmpty {
      let words = MentionText(normalizing: mention.text)
      guards = MentionGuard.check(words, settings: settings, onTopic: answer != nil)
      var body = given
      if let customer, !body.lowercased().hasPrefix(customer.lowercased()) { body = customer + " " + body }
      let limit = document.channel.flatMap { settings.replyLimits[$0.lowercased()] }
      if let limit, body.count > limit { notes.append("The reply is \(body.count) characters, over \(document.channel ?? "")'s \(limit).") }
      if let answer { try requireAnswer(answer) }
      return CaseReply(
        id: document.id, customer: customer, channel: document.channel, status: status.rawValue,
        nextStatus: try nextStatus(status, kind: answer != nil ? .acted : .acknowledged, caseID: document.id).rawValue,
        answer: answer, verdict: nil, guards: guards, text: body, kind: answer != nil ? "acted" : "acknowledged",
        draft: nil, notes: notes)
    }
    if let answer {
      let doc = try requireAnswer(answer)
      let words = MentionText(normalizing: mention.text)
      guards = MentionGuard.check(words, settings: settings, onTopic: true)
      let fm = doc.frontMatter
      let replies = CustomerReply.replies(frontMatter: fm, body: doc.bodyText)
      let lang = Language.of(mention) ?? "en"
      var context = ReplyDraft.Context(
        customer: customer, title: doc.title, guards: guards.map(\.kind), asksForHelp: true)
      if let r = replies[lang] {
        context.reply = r
        context.language = lang
      } else {
        context.reply = replies["en"]
        if context.reply == nil {
          context.step = CustomerReply.customerStep(Self.fixSteps(doc.bodyText))
          if context.step == nil { context.needsPrivate = true }
        }
        if lang != "en" { context.customerLanguage = lang }
      }
      let a = SuggestAnswer(rowid: 0, id: doc.id, path: doc.path, title: doc.title, symptoms: doc.symptoms, tags: doc.tags.joined(separator: " "), body: doc.bodyText)
      if replies.isEmpty, Self.needsPrivate(a) { context.needsPrivate = true }
      draft = ReplyDraft.write(
        context, templates: replyTemplates(), settings: settings, agent: agent.map { ReplyDraft.Agent(name: $0.name) },
        channel: document.channel)
    } else {
      let result = try suggest(mention, options: options)
      verdict = result.verdict
      guards = result.guards
      draft = result.reply
      if result.verdict == .knownFix { answerID = result.suggestions.first?.id }
      if result.verdict == .possibleFix, let first = result.suggestions.first {
        notes.append("A possible fix was found (\(first.id): \(first.title)); the draft does not give it. Check it, then reply with --answer \(first.id).")
      }
    }
    guard let draft else {
      let kinds = guards.filter(\.kind.blocksReply).map(\.kind.rawValue).joined(separator: ", ")
      throw WorkspaceError.invalidInput(
        "No public reply for case '\(document.id)': \(kinds.isEmpty ? "a guard" : kinds) says not to answer in public. Escalate it, or write the reply yourself with --text.")
    }
    if let note = draft.note { notes.append(note) }
    let givesFix = ["fix", "venting_fix"].contains(draft.template) || draft.template.hasPrefix("fix_")
    let kind: JournalEntry.Kind = givesFix ? .acted : .acknowledged
    return CaseReply(
      id: document.id, customer: customer, channel: document.channel, status: status.rawValue,
      nextStatus: try nextStatus(status, kind: kind, caseID: document.id).rawValue, answer: givesFix ? answerID : nil,
      verdict: verdict, guards: guards, text: draft.text, kind: kind.rawValue, draft: draft, notes: notes)
  }

  /// Logs a reply (drafted by ``draftCaseReply(caseID:answer:text:agent:)``, perhaps edited) as
  /// a signed journal entry: `acted` when it gives a fix, else `acknowledged`; the status moves
  /// as the playbook says (an open case becomes acknowledged).
  @discardableResult
  public func sendCaseReply(_ reply: CaseReply, text: String? = nil, author: String, at time: Date = Date()) throws -> CaseChange {
    let words = (text ?? reply.text).split(whereSeparator: { $0 == "\n" || $0 == "\r" })
      .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
    guard !words.isEmpty else { throw WorkspaceError.invalidInput("The reply is empty: nothing was logged.") }
    var entry = "Replied: " + words
    if let answer = reply.answer, reply.kind == "acted" { entry += " Fix: [[\(answer)]]." }
    return try log(caseID: reply.id, kind: JournalEntry.Kind(rawValue: reply.kind), text: entry, author: author, at: time)
  }

  @discardableResult
  func requireAnswer(_ id: String) throws -> Document {
    guard let summary = try store.summary(id: id) else {
      throw WorkspaceError.invalidInput("--answer \(id): no answer has that id. Run 'kb search type:answer …' to find it.")
    }
    guard summary.type == .answer else { throw WorkspaceError.invalidInput("--answer \(id) is a case, not an answer.") }
    return try document(id: id)
  }

  func nextStatus(_ status: CaseStatus, kind: JournalEntry.Kind, caseID: String) throws -> CaseStatus {
    try CaseLifecycle.next(after: status, kind: kind, held: nil, caseID: caseID)
  }
}
