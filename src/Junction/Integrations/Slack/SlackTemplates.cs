using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Junction.Canonical;
using Junction.Dispatch;
using Junction.Observability;

namespace Junction.Integrations.Slack;

/// <summary>
/// Notification text per canonical event type: option <c>template_&lt;type&gt;</c> (e.g.
/// <c>template_order_paid</c>) or the default below, with placeholders in braces. Values are escaped
/// for Slack's mrkdwn (&amp;, &lt;, &gt;) so a product name cannot inject a link or a mention; the
/// template's own text is left as written, so it may use Slack formatting. Never a raw email:
/// only <c>{email_masked}</c> exists.
/// </summary>
public static partial class SlackTemplates
{
    public static readonly IReadOnlyList<string> Placeholders =
    [
        "amount", "currency", "product", "email_masked", "source", "provider", "order_id", "refund_amount", "event_type", "reason", "course",
    ];

    private const string Missing = "n/a";

    private static readonly Dictionary<string, string> Defaults = new(StringComparer.Ordinal)
    {
        [EventTypes.OrderPaid] = ":moneybag: New sale: {amount} {currency} for {product} by {email_masked} (via {source})",
        [EventTypes.OrderRefunded] = ":leftwards_arrow_with_hook: Refund: {refund_amount} {currency} on order {order_id} for {email_masked} (via {source})",
        [EventTypes.PaymentFailed] = ":warning: Payment failed: {amount} {currency} for {product} by {email_masked} (via {source})",
        [EventTypes.ChargebackOpened] = ":rotating_light: Chargeback opened: {amount} {currency} on order {order_id} ({reason}, via {source})",
        [EventTypes.SubscriptionCanceled] = "Subscription canceled by {email_masked} ({reason}, via {source})",
        [EventTypes.AccessGranted] = "Access granted: {course} for {email_masked} (via {source})",
        [EventTypes.AccessRevoked] = "Access ended: {course} for {email_masked} ({reason}, via {source})",
    };

    private const string Generic = "{event_type} for {email_masked} (via {source})";

    /// <summary>order.paid → template_order_paid.</summary>
    public static string OptionKey(string eventType)
    {
        ArgumentNullException.ThrowIfNull(eventType);
        return "template_" + eventType.Replace('.', '_');
    }

    /// <summary>The configured template for <paramref name="eventType"/>, else the default, else a generic line.</summary>
    public static string TemplateFor(DestinationConfig config, string eventType)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Options.TryGetValue(OptionKey(eventType), out var configured) && !string.IsNullOrWhiteSpace(configured)) return configured;
        return Defaults.TryGetValue(eventType, out var text) ? text : Generic;
    }

    /// <summary>Each configured template's unknown placeholders, as (key path, expected).</summary>
    public static IReadOnlyList<(string Path, string Message)> Problems(DestinationConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return [.. Problems(config.Options).Select(p => ($"destinations.{config.Id}.{p.Key}", p.Message))];
    }

    /// <summary>Each template option's unknown placeholders, as (option key, expected).</summary>
    public static IReadOnlyList<(string Key, string Message)> Problems(IReadOnlyDictionary<string, string> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<(string, string)>();
        foreach (var (key, template) in options.OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            if (!key.StartsWith("template_", StringComparison.Ordinal)) continue;
            foreach (Match m in Placeholder().Matches(template))
            {
                var name = m.Groups[1].Value;
                if (!Placeholders.Contains(name))
                {
                    problems.Add((key, $"unknown placeholder {{{name}}}; expected one of {string.Join(", ", Placeholders.Select(p => "{" + p + "}"))}"));
                }
            }
        }
        return problems;
    }

    /// <summary>The notification text for one event (test-mode events say so first).</summary>
    public static string Render(string template, CanonicalEvent canonical)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(canonical);
        var values = Values(canonical);
        var text = Placeholder().Replace(template, m => values.TryGetValue(m.Groups[1].Value, out var v) ? Escape(v ?? Missing) : m.Value);
        return canonical.TestMode ? "[test mode] " + text : text;
    }

    private static Dictionary<string, string?> Values(CanonicalEvent e)
    {
        var order = e.Order;
        var currency = Money.Currency(order?.Currency ?? e.Chargeback?.Currency);
        string? Major(long? minor) => minor is { } m && currency is not null ? Money.FormatMajor(m, currency) : minor?.ToString(CultureInfo.InvariantCulture);
        var products = order?.Items.Select(i => i.Name ?? i.Sku ?? i.ProductId).OfType<string>().Distinct(StringComparer.Ordinal).ToList() ?? [];
        return new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["amount"] = Major(order?.Amount ?? e.Chargeback?.Amount),
            ["currency"] = currency,
            ["product"] = products.Count > 0 ? string.Join(", ", products) : e.Access?.ProductName ?? e.Access?.ProductId,
            ["email_masked"] = e.Subject.Email is { } email ? Pii.MaskEmail(email) : null,
            ["source"] = e.Source,
            ["provider"] = e.Provider,
            ["order_id"] = order?.OrderId ?? e.Subscription?.SubscriptionId,
            ["refund_amount"] = Major(order?.RefundAmount ?? (order?.FullyRefunded == true ? order.Amount : null)),
            ["event_type"] = e.Type,
            ["reason"] = e.Chargeback?.Reason ?? e.Subscription?.Reason ?? e.Access?.Reason,
            ["course"] = e.Access?.ProductName ?? e.Access?.ProductId,
        };
    }

    /// <summary>Slack mrkdwn's three control characters (docs.slack.dev/messaging/formatting-message-text#escaping).</summary>
    internal static string Escape(string value)
    {
        var text = new StringBuilder(value.Length);
        foreach (var ch in value)
        {
            text.Append(ch switch { '&' => "&amp;", '<' => "&lt;", '>' => "&gt;", _ => ch.ToString() });
        }
        return text.ToString();
    }

    [GeneratedRegex(@"\{([A-Za-z0-9_]+)\}", RegexOptions.CultureInvariant)]
    private static partial Regex Placeholder();
}
