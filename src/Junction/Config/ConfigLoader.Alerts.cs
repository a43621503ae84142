using System.Globalization;
using Junction.Alerts;
using YamlDotNet.RepresentationModel;

namespace Junction.Config;

/// <summary>
/// <c>alerts:</c> (rules over the seeds' defaults), <c>notifiers:</c> and <c>runbooks:</c>. Errors name
/// their key path and what was expected, like the rest of the loader.
/// </summary>
public static partial class ConfigLoader
{
    private static readonly string[] AlertRuleKeys = ["enabled", "threshold", "window", "for", "cooldown", "notify", "min_events", "severity"];
    private static readonly string[] NotifierKeys = ["type", "url", "secret", "host", "port", "starttls", "username", "password", "from", "to"];
    private static readonly string[] RunbookKeys = ["notify", "rollback", "fallback"];
    private static readonly string[] Severities = ["info", "warning", "critical"];

    private static AlertSettings ReadAlerts(Reader reader, YamlMappingNode root, IReadOnlyDictionary<string, Dispatch.DestinationConfig> destinations)
    {
        var settings = AlertSettings.Default;
        var notifiers = ReadNotifiers(reader, root);
        settings = settings with { Notifiers = notifiers };

        switch (Reader.Child(root, "alerts"))
        {
            case null:
                break;
            case YamlMappingNode map:
                reader.RejectUnknownKeys(map, "alerts", ["evaluate_every", .. AlertRules.Names]);
                if (ReadDuration(reader, map, "evaluate_every", "alerts.evaluate_every") is { } every)
                {
                    if (every < TimeSpan.FromSeconds(1)) reader.Error("alerts.evaluate_every", "expected at least 1s");
                    else settings = settings with { Interval = every };
                }
                var rules = new Dictionary<string, AlertRule>(AlertRules.Defaults, StringComparer.Ordinal);
                foreach (var name in AlertRules.Names)
                {
                    if (Reader.Child(map, name) is not { } ruleNode) continue;
                    if (ReadAlertRule(reader, rules[name], ruleNode, notifiers) is { } rule) rules[name] = rule;
                }
                settings = settings with { Rules = rules };
                break;
            default:
                reader.Error("alerts", $"expected a mapping of alert rules ({string.Join(", ", AlertRules.Names)}) and evaluate_every");
                break;
        }

        switch (Reader.Child(root, "runbooks"))
        {
            case null:
                break;
            case YamlMappingNode map:
                reader.RejectUnknownKeys(map, "runbooks", [.. AlertRules.Names]);
                var runbooks = new Dictionary<string, Runbook>(StringComparer.Ordinal);
                foreach (var name in AlertRules.Names)
                {
                    if (Reader.Child(map, name) is not { } node) continue;
                    if (ReadRunbook(reader, name, node, notifiers, destinations) is { } runbook) runbooks[name] = runbook;
                }
                settings = settings with { Runbooks = runbooks };
                break;
            default:
                reader.Error("runbooks", "expected a mapping of alert rule to { notify, rollback, fallback }");
                break;
        }
        return settings;
    }

    private static AlertRule? ReadAlertRule(Reader reader, AlertRule rule, YamlNode node, IReadOnlyDictionary<string, NotifierConfig> notifiers)
    {
        var path = $"alerts.{rule.Name}";
        if (node is not YamlMappingNode map)
        {
            reader.Error(path, $"expected a mapping with any of {string.Join(", ", AlertRuleKeys)}");
            return null;
        }
        reader.RejectUnknownKeys(map, path, AlertRuleKeys);
        switch (reader.OptionalString(map, "enabled", $"{path}.enabled"))
        {
            case null or "true":
                break;
            case "false":
                rule = rule with { Enabled = false };
                break;
            case var other:
                reader.Error($"{path}.enabled", $"expected true or false; got '{other}'");
                break;
        }
        if (ReadAlertThreshold(reader, map, rule.Name, $"{path}.threshold") is { } threshold) rule = rule with { Threshold = threshold };
        if (ReadDuration(reader, map, "window", $"{path}.window") is { } window) rule = rule with { Window = window };
        if (ReadDuration(reader, map, "for", $"{path}.for") is { } holdFor) rule = rule with { For = holdFor };
        if (ReadDuration(reader, map, "cooldown", $"{path}.cooldown") is { } cooldown) rule = rule with { Cooldown = cooldown };
        if (reader.OptionalInt(map, "min_events", $"{path}.min_events", 0, 1_000_000) is { } min) rule = rule with { MinEvents = min };
        if (reader.OptionalString(map, "severity", $"{path}.severity") is { } severity)
        {
            if (Array.IndexOf(Severities, severity) >= 0) rule = rule with { Severity = severity };
            else reader.Error($"{path}.severity", $"expected one of {string.Join(", ", Severities)}; got '{severity}'");
        }
        if (Reader.Child(map, "notify") is not null) rule = rule with { Notify = ReadNotifyList(reader, map, $"{path}.notify", notifiers) };
        return rule;
    }

    /// <summary>Rates and drops are percentages; source_silent a multiple of the usual gap (3 or 3x); dlq_growing a count of new dead deliveries.</summary>
    private static double? ReadAlertThreshold(Reader reader, YamlMappingNode map, string rule, string path)
    {
        switch (rule)
        {
            case AlertRules.SourceSilent:
            {
                var text = reader.OptionalString(map, "threshold", path);
                if (text is null) return null;
                var number = text.EndsWith('x') ? text[..^1] : text;
                if (double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var multiple) && multiple is >= 1 and <= 1000) return multiple;
                reader.Error(path, $"expected a multiple of the source's usual gap between events, from 1 to 1000 (e.g. 3 or 3x); got '{text}'");
                return null;
            }
            case AlertRules.SmokeFailing:
                if (Reader.Child(map, "threshold") is not null) reader.Error(path, "smoke_failing has no threshold: it fires when the latest finished smoke run failed");
                return null;
            case AlertRules.DlqGrowing or AlertRules.AuditOverThreshold:
                return reader.OptionalInt(map, "threshold", path, 0, 1_000_000);
            default:
                return ReadPercent(reader, map, "threshold", path);
        }
    }

    private static List<string> ReadNotifyList(Reader reader, YamlMappingNode map, string path, IReadOnlyDictionary<string, NotifierConfig> notifiers)
    {
        var ids = reader.StringList(map, "notify", path, required: false);
        for (var i = 0; i < ids.Count; i++)
        {
            if (ids[i].Length > 0 && !notifiers.ContainsKey(ids[i]))
            {
                var known = notifiers.Count == 0 ? "none are configured under notifiers:" : "configured: " + string.Join(", ", notifiers.Keys.Order(StringComparer.Ordinal));
                reader.Error($"{path}[{i}]", $"expected a notifier id from notifiers: ({known}); got '{ids[i]}'");
            }
        }
        return ids;
    }

    private static Dictionary<string, NotifierConfig> ReadNotifiers(Reader reader, YamlMappingNode root)
    {
        var result = new Dictionary<string, NotifierConfig>(StringComparer.Ordinal);
        switch (Reader.Child(root, "notifiers"))
        {
            case null:
                return result;
            case YamlMappingNode map:
                foreach (var (key, value) in map.Children)
                {
                    var id = (key as YamlScalarNode)?.Value ?? "";
                    var path = $"notifiers.{id}";
                    if (!SourceIdPattern().IsMatch(id)) reader.Error(path, "a notifier id is 1-64 characters of a-z, 0-9, '-' and '_'");
                    if (value is not YamlMappingNode n)
                    {
                        reader.Error(path, $"expected a mapping with type ({NotifierTypeList}) and its settings");
                        continue;
                    }
                    reader.RejectUnknownKeys(n, path, NotifierKeys);
                    if (ReadNotifier(reader, id, path, n) is { } notifier) result[id] = notifier;
                }
                return result;
            default:
                reader.Error("notifiers", $"expected a mapping of notifier ids to {{ type: {NotifierTypeList.Replace(", ", " | ", StringComparison.Ordinal)}, … }}");
                return result;
        }
    }

    private static NotifierConfig? ReadNotifier(Reader reader, string id, string path, YamlMappingNode n)
    {
        var errors = reader.Errors.Count;
        var type = reader.OptionalString(n, "type", $"{path}.type");
        switch (type)
        {
            case NotifierTypes.Email:
                return ReadEmailNotifier(reader, id, path, n, errors);
            case { } other when Integrations.IntegrationRegistry.Notifier(other) is { } descriptor:
            {
                var url = reader.OptionalString(n, "url", $"{path}.url");
                Uri? uri = null;
                if (url is null) reader.Error($"{path}.url", $"required; expected {descriptor.UrlExpected}");
                else if (!Uri.TryCreate(url, UriKind.Absolute, out uri) || uri.Scheme is not ("http" or "https")) reader.Error($"{path}.url", "expected an absolute http(s) URL");
                string? secret = null;
                if (descriptor.Secret is { } check)
                {
                    secret = reader.OptionalString(n, "secret", $"{path}.secret");
                    if (secret is null) reader.Error($"{path}.secret", $"required; expected {check("")}");
                    else if (check(secret) is { } problem) reader.Error($"{path}.secret", $"expected {problem}");
                }
                else if (Reader.Child(n, "secret") is not null)
                {
                    reader.Error($"{path}.secret", $"type {other} takes no secret");
                }
                foreach (var smtpKey in new[] { "host", "port", "starttls", "username", "password", "from", "to" })
                {
                    if (Reader.Child(n, smtpKey) is not null) reader.Error($"{path}.{smtpKey}", $"only for type email; this notifier is {other}");
                }
                return reader.Errors.Count > errors ? null : new NotifierConfig { Id = id, Type = other, Url = uri, Secret = secret };
            }
            default:
                reader.Error($"{path}.type", $"{(type is null ? "required; expected" : "expected")} one of {NotifierTypeList}{(type is null ? "" : $"; got '{type}'")}");
                return null;
        }
    }

    private static string NotifierTypeList => string.Join(", ", Integrations.IntegrationRegistry.Notifiers.Select(d => d.Type).Append(NotifierTypes.Email));

    private static NotifierConfig? ReadEmailNotifier(Reader reader, string id, string path, YamlMappingNode n, int errors)
    {
        var host = reader.OptionalString(n, "host", $"{path}.host");
        if (host is null) reader.Error($"{path}.host", "required; expected the SMTP server's host name");
        var port = reader.OptionalInt(n, "port", $"{path}.port", 1, 65535) ?? 587;
        var startTls = true;
        switch (reader.OptionalString(n, "starttls", $"{path}.starttls"))
        {
            case null or "true":
                break;
            case "false":
                startTls = false;
                break;
            case var other:
                reader.Error($"{path}.starttls", $"expected true or false; got '{other}'");
                break;
        }
        var username = reader.OptionalString(n, "username", $"{path}.username");
        var password = reader.OptionalString(n, "password", $"{path}.password");
        if ((username is null) != (password is null))
        {
            reader.Error($"{path}.{(username is null ? "username" : "password")}", "username and password go together (both from the environment, e.g. \"${SMTP_PASSWORD}\")");
        }
        var from = reader.OptionalString(n, "from", $"{path}.from");
        if (from is null || !MimeKit.MailboxAddress.TryParse(from, out _)) reader.Error($"{path}.from", "required; expected the sender's address, e.g. junction@creator.example");
        var to = reader.StringList(n, "to", $"{path}.to", required: true);
        for (var i = 0; i < to.Count; i++)
        {
            if (to[i].Length > 0 && !MimeKit.MailboxAddress.TryParse(to[i], out _)) reader.Error($"{path}.to[{i}]", "expected an email address");
        }
        if (Reader.Child(n, "url") is not null) reader.Error($"{path}.url", $"only for types that post to a URL ({string.Join(", ", Integrations.IntegrationRegistry.Notifiers.Select(d => d.Type))}); this notifier is email");
        if (Reader.Child(n, "secret") is not null) reader.Error($"{path}.secret", "only for types that sign; this notifier is email");
        return reader.Errors.Count > errors ? null : new NotifierConfig
        {
            Id = id, Type = NotifierTypes.Email, Host = host, Port = port, StartTls = startTls, Username = username, Password = password, From = from, To = to,
        };
    }

    private static Runbook? ReadRunbook(Reader reader, string rule, YamlNode node, IReadOnlyDictionary<string, NotifierConfig> notifiers,
        IReadOnlyDictionary<string, Dispatch.DestinationConfig> destinations)
    {
        var path = $"runbooks.{rule}";
        if (node is not YamlMappingNode map)
        {
            reader.Error(path, "expected a mapping with notify, rollback and fallback");
            return null;
        }
        reader.RejectUnknownKeys(map, path, RunbookKeys);
        var runbook = new Runbook { Fallback = reader.OptionalString(map, "fallback", $"{path}.fallback") };
        if (Reader.Child(map, "notify") is not null) runbook = runbook with { Notify = ReadNotifyList(reader, map, $"{path}.notify", notifiers) };
        // { pause: DEST } or the same as one string, "pause: DEST".
        (string Kind, string? Target)? given = Reader.Child(map, "rollback") switch
        {
            null => null,
            YamlMappingNode m when m.Children.Count == 1 && m.Children.Keys.Single() is YamlScalarNode { Value: { } k } => (k, reader.OptionalString(m, k, $"{path}.rollback.{k}")),
            YamlScalarNode { Value: { } text } when text.Split(':', 2, StringSplitOptions.TrimEntries) is [var k, var t] => (k, t),
            _ => ("", null),
        };
        switch (given)
        {
            case null:
                break;
            case var (kind, target) when kind.Length > 0:
                if (kind == "hold_signups")
                {
                    // Holding a form's signups for review needs a hold queue in capture that does not exist yet.
                    reader.Error($"{path}.rollback.hold_signups", "not supported yet: Junction cannot hold a form's signups for review; use pause: <destination> or resume: <destination>");
                }
                else if (kind is not (RunbookAction.Pause or RunbookAction.Resume))
                {
                    reader.Error($"{path}.rollback", $"expected pause: <destination> or resume: <destination>; got '{kind}'");
                }
                else if (target is null || !destinations.ContainsKey(target))
                {
                    var known = destinations.Count == 0 ? "none are configured" : "configured: " + string.Join(", ", destinations.Keys.Order(StringComparer.Ordinal));
                    reader.Error($"{path}.rollback.{kind}", $"expected a destination id from destinations: ({known}); got '{target}'");
                }
                else
                {
                    runbook = runbook with { Rollback = new RunbookAction(kind, target) };
                }
                break;
            default:
                reader.Error($"{path}.rollback", "expected one action: { pause: <destination> } or { resume: <destination> }");
                break;
        }
        return runbook;
    }
}
