import Foundation

/// Decoding `notify:`: a list of receivers, each a webhook, a secret webhook or a command, with `on:` and `timeout:`.
extension PipelineDecoder {
  func notify(_ node: YAMLNode) -> [NotifySpec] {
    if node.isNull { return [] }
    guard
      let items = list(
        node, subject: "'notify'", expected: "a list of receivers like '- webhook_secret: SLACK_URL'")
    else { return [] }
    return items.compactMap(receiver)
  }

  private func receiver(_ node: YAMLNode) -> NotifySpec? {
    let keys = NotifySpec.Key.allCases.map(\.rawValue)
    guard
      let fields = fields(
        node, subject: "each entry of 'notify'", allowed: keys, context: "in a 'notify' entry",
        expected: "a mapping with 'webhook', 'webhook_secret' or 'command'")
    else { return nil }
    let given = [NotifySpec.Key.webhook, .webhookSecret, .command].filter { fields[$0] != nil }
    guard given.count == 1, let key = given.first else {
      if given.isEmpty && !fields.hadUnknownKeys {
        report("a 'notify' entry needs one of 'webhook', 'webhook_secret' or 'command'", at: fields.position)
      } else if given.count > 1 {
        report(
          "a 'notify' entry has \(given.map { "'\($0.rawValue)'" }.joined(separator: " and ")); give one receiver per "
            + "entry", at: fields.position)
      }
      return nil
    }
    guard let value = fields[key], let receiver = receiver(key, value) else { return nil }
    var spec = NotifySpec(receiver: receiver)
    if let node = fields[NotifySpec.Key.on] {
      guard let triggers = triggers(node) else { return nil }
      spec.on = NotifyTrigger.allCases.filter(triggers.contains)
    }
    if let node = fields[NotifySpec.Key.timeout] {
      guard let timeout = duration(node, subject: "'timeout' of a 'notify' entry", allowZero: false) else {
        return nil
      }
      spec.timeout = timeout
    }
    return spec
  }

  private func receiver(_ key: NotifySpec.Key, _ node: YAMLNode) -> NotifySpec.Receiver? {
    switch key {
    case .webhook:
      guard let url = text(node, subject: "'webhook'") else { return nil }
      guard let parsed = URLComponents(string: url), let scheme = parsed.scheme?.lowercased(),
        scheme == "http" || scheme == "https", parsed.host?.isEmpty == false
      else {
        report(
          "'webhook' must be an http:// or https:// URL, found '\(short(url))'; keep a URL that holds a token in a "
            + "secret with 'webhook_secret: NAME'", at: node.position)
        return nil
      }
      return .webhook(url: url)
    case .webhookSecret:
      guard let name = text(node, subject: "'webhook_secret'") else { return nil }
      guard PipelineNames.isValidConfigKey(name), !name.hasPrefix(PipelineNames.reservedPrefix) else {
        report(
          "'webhook_secret' names the variable that holds the URL, like 'SLACK_URL', found '\(short(name))': "
            + PipelineNames.configKeyRule + ", not starting with '\(PipelineNames.reservedPrefix)'",
          at: node.position)
        return nil
      }
      return .webhookSecret(name: name)
    case .command:
      return arguments(node, subject: "'command' of a 'notify' entry").map { .command(arguments: $0) }
    case .on, .timeout:
      return nil
    }
  }

  private func triggers(_ node: YAMLNode) -> [NotifyTrigger]? {
    let known = NotifyTrigger.allCases.map(\.rawValue)
    let listed = "\(known.joined(separator: ", "))"
    guard case .sequence(let items) = node.content else {
      mismatch(node, subject: "'on'", expected: "a list of events among \(listed), like [failure, rollback]")
      return nil
    }
    guard !items.isEmpty else {
      report(
        "'on' is empty, so the receiver would never be told anything; list events among \(listed), or remove "
          + "'on' for the default (\(NotifySpec.defaultTriggers.map(\.rawValue).joined(separator: ", ")))",
        at: node.position)
      return nil
    }
    var triggers: [NotifyTrigger] = []
    for item in items {
      guard let word = text(item, subject: "each event of 'on'") else { return nil }
      guard let trigger = NotifyTrigger(rawValue: word) else {
        report(
          "unknown event '\(short(word))' in 'on'\(didYouMean(word, among: known)); events are \(listed)",
          at: item.position)
        return nil
      }
      triggers.append(trigger)
    }
    return triggers
  }
}
