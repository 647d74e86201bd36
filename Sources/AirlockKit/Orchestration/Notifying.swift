import Foundation

/// Telling `notify:` receivers about recorded events, and recording what each delivery did.
extension Orchestrator {
  /// Starts telling the receivers of `stage` whose `on:` matches about the event `record`, just recorded as `commit`.
  func notify(_ record: EventRecord, commit: ObjectID, checks: [CheckResult], stage: Stage) {
    let kinds = Set(NotifyTrigger.matching(record))
    let chosen = (stage.spec.notify ?? []).filter { !kinds.isDisjoint(with: $0.on) }
    guard !chosen.isEmpty else { return }
    let notifiers = chosen.map { spec in
      Notifier(
        spec: spec, root: URL(fileURLWithPath: stage.snapshot.root), environment: options.environment,
        childEnvironment: stage.baseEnvironment(), runner: options.runner)
    }
    let outbox = notifications
    let resolution = stage.secretResolution
    let environment = stage.spec
    let notification = EventNotification(record, commit: commit, checks: checks)
    outbox.send(notification, event: Self.message(for: record), to: notifiers) { receiver in
      switch receiver.receiver {
      case .webhook(let url):
        return .success(url)
      case .webhookSecret(let name):
        return await outbox.url(secret: name) {
          do {
            let secrets = try await resolution.resolve([name]) { environment.source(ofSecret: $0) }
            guard let value = secrets.values[name] else {
              return .failure(NotifyFailure(reason: "secret \(name) is not set in the process environment"))
            }
            return .success(value)
          } catch {
            return .failure(NotifyFailure(reason: "\(error)"))
          }
        }
      case .command:
        return nil
      }
    }
  }

  /// Runs `body`, then waits for the notifications of the events it recorded; a failed delivery is a warning of
  /// the report and never changes its outcome or exit code.
  func notifying(_ body: () async throws -> OperationReport) async throws -> OperationReport {
    var report: OperationReport
    do {
      report = try await body()
    } catch {
      await warnAboutNotifications()
      throw error
    }
    report.warnings += await deliverNotifications()
    return report
  }

  /// Waits for the notifications of the events recorded so far; a failed delivery is a warning on the progress
  /// stream.
  func warnAboutNotifications() async {
    for warning in await deliverNotifications() { options.progress("warning: \(warning)") }
  }

  /// Waits for the notifications sent so far, records each event's deliveries in the ledger (docs/ledger.md),
  /// shows them on the progress stream, and returns a warning per failed delivery.
  func deliverNotifications() async -> [String] {
    var warnings: [String] = []
    for sent in await notifications.drain() {
      for delivery in sent.deliveries {
        let how = delivery.reason + (delivery.attempts > 1 ? ", \(delivery.attempts) attempts" : "")
        if delivery.delivered {
          options.progress("→ notified \(delivery.receiver) of \(sent.event) (\(how))")
        } else {
          warnings.append("\(delivery.receiver) was not told of \(sent.event) (\(how))")
        }
      }
      do {
        try ledger.recordDeliveries(
          sent.deliveries, on: sent.commit, in: sent.environment, author: options.actor, time: clock.now())
      } catch {
        warnings.append("the notifications of event \(sent.commit.short) were not recorded: \(error)")
      }
    }
    return warnings
  }
}
