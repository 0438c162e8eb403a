import Foundation

/// Merges the parts of one document: front matter, journal, and the free text around the
/// journal. Returns `nil` when the document cannot be merged by parts (a front matter that does
/// not parse); ``DomainMerge`` then merges the whole file line by line.
struct DocumentMerger {
  let path: String
  let textMerge: TextMerge

  func merge(base: String?, ours: String, theirs: String) -> MergeOutcome? {
    guard let o = try? MarkdownDocument(parsing: ours),
      let t = try? MarkdownDocument(parsing: theirs)
    else { return nil }
    let b: MarkdownDocument
    if let base {
      guard let parsed = try? MarkdownDocument(parsing: base) else { return nil }
      b = parsed
    } else {
      b = MarkdownDocument(frontMatter: nil, body: "")
    }
    var conflicts: [String] = []
    var notes: [String] = []

    // The journal first: the front-matter rules for status and assignee read it.
    let (bb, ob, tb) = (BodyParts(b.body), BodyParts(o.body), BodyParts(t.body))
    let journal = JournalMerge.merge(base: bb.journal, ours: ob.journal, theirs: tb.journal)

    // Front matter, field by field.
    var context = FrontMatterMerge.Context()
    let type = (o.frontMatter?.string("type") ?? t.frontMatter?.string("type"))?.lowercased()
    context.isCase =
      type == "case" || (type == nil && (path.hasPrefix("cases/") || path.contains("/cases/")))
    context.journalStatus = journal.entries.last { $0.kind.impliedStatus != nil }?.kind.impliedStatus
    context.oursHandoff = journal.oursHandoff
    context.theirsHandoff = journal.theirsHandoff
    var fields = FrontMatterMerge(context: context)
    let anyFrontMatter = b.frontMatter != nil || o.frontMatter != nil || t.frontMatter != nil
    var raw: String?
    if anyFrontMatter {
      guard let merged = fields.merge(base: b.frontMatter, ours: o.frontMatter, theirs: t.frontMatter)
      else { return nil }
      if !merged.isEmpty || (o.frontMatter != nil && t.frontMatter != nil) { raw = merged }
    }
    conflicts += fields.conflicts
    notes += fields.notes
    notes += journal.notes

    // The free text around the journal, line by line.
    let before = textMerge(bb.before, ob.before, tb.before)
    let after = textMerge(bb.after, ob.after, tb.after)
    var body = before.text
    if let section = journal.text {
      if !body.isEmpty, !body.hasSuffix("\n") { body += "\n" }
      body += section
    }
    if !after.text.isEmpty, !body.isEmpty, !body.hasSuffix("\n") { body += "\n" }
    body += after.text

    var document: MarkdownDocument
    if let raw {
      guard let frontMatter = try? FrontMatter(parsing: raw) else { return nil }
      document = MarkdownDocument(frontMatter: frontMatter, body: body)
      let fences = o.frontMatter != nil ? o : t.frontMatter != nil ? t : b
      document.openingFence = fences.openingFence
      document.closingFence = fences.closingFence
    } else {
      document = MarkdownDocument(frontMatter: nil, body: body)
    }
    let text = document.text
    // The result must read back as the same parts, or nothing can be trusted: merge by lines.
    guard let check = try? MarkdownDocument(parsing: text), check.body == body,
      check.frontMatter?.raw == raw
    else { return nil }

    if !before.clean || !after.clean {
      let ranges = DomainMerge.markerRanges(in: body, startLine: check.bodyStartLine)
      if ranges.isEmpty {
        conflicts.append("body: both versions kept between markers")
      } else {
        conflicts += ranges.map {
          "body: lines \($0.lowerBound)-\($0.upperBound), both versions kept between markers"
        }
      }
    }
    return MergeOutcome(text: text, conflicts: conflicts, notes: notes)
  }
}
