using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Junction.Canonical;
using Junction.Normalize;

namespace Junction.Erasure;

/// <summary>
/// What an erasure takes out of a stored body: the person's own values (addresses, names, phones,
/// customer ids, tokens) wherever they appear, and any value under a key that holds personal data
/// in every provider's payloads (<c>*email*</c>, <c>first_name</c>, <c>phone</c>, <c>address1</c> …).
/// Everything else — amounts, currencies, order ids, products, dates — stays, so a money record
/// remains a record of a sale to somebody.
/// </summary>
public sealed class Redaction
{
    /// <summary>What replaces an erased value.</summary>
    public const string Marker = "[erased]";

    private static readonly HashSet<string> PersonalKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        "first_name", "last_name", "full_name", "firstname", "lastname", "firstName", "lastName", "given_name", "family_name",
        "customer_name", "billing_name", "shipping_name", "payer_name", "buyer_name", "phone", "phone_number", "mobile",
        "address", "address1", "address2", "address_line_1", "address_line_2", "line1", "line2", "street", "ip", "ip_address",
        "browser_ip", "client_ip", "user_agent", "fname", "lname", "FNAME", "LNAME",
    };

    // Values long and distinctive enough to replace wherever they occur inside a longer string.
    private readonly List<string> _substrings;

    // Short values (a first name): replaced only when a whole string value equals one of them.
    private readonly HashSet<string> _whole;

    public Redaction(IEnumerable<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var all = values.Where(v => !string.IsNullOrWhiteSpace(v)).Select(v => v.Trim()).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        _whole = new HashSet<string>(all, StringComparer.OrdinalIgnoreCase);
        // Longest first, so an address is replaced before a shorter value inside it.
        _substrings = [.. all.Where(v => v.Length >= 6 || v.Contains('@', StringComparison.Ordinal)).OrderByDescending(v => v.Length)];
    }

    /// <summary>The values to take out of a person's events: from their identifiers and every subject they appeared as.</summary>
    public static IReadOnlyList<string> PersonalValues(IEnumerable<string> identifierValues, IEnumerable<CanonicalEvent> events)
    {
        var values = new List<string>(identifierValues);
        foreach (var e in events)
        {
            var s = e.Subject;
            values.AddRange(new[] { s.Email, s.EmailRaw, s.CustomerId, s.PurchaseToken, s.Phone, s.Name, s.PreviousEmail, s.AnonymousId }.OfType<string>());
            if (s.Name is { } name) values.AddRange(name.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            if (s.Phone is { Length: > 1 } phone && phone[0] == '+') values.Add(phone[1..]);
        }
        return values;
    }

    /// <summary>
    /// A canonical event without its person: the subject, attribution (landing URLs carry query strings)
    /// and webinar or booking details go; type, time, order, subscription, consent and access stay.
    /// </summary>
    public string Canonical(string json)
    {
        var e = CanonicalJson.Deserialize(json);
        var redacted = e with { Subject = new Subject(), Attribution = null, FirstTouch = null, Webinar = null, Booking = null };
        return Json(CanonicalJson.Serialize(redacted));
    }

    /// <summary>A raw body: JSON walked value by value; a form body field by field; anything else as text.</summary>
    public byte[] Raw(byte[] body, string contentType)
    {
        ArgumentNullException.ThrowIfNull(body);
        var text = Encoding.UTF8.GetString(body);
        if (contentType.Contains("x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase)) return Encoding.UTF8.GetBytes(Form(text));
        return Encoding.UTF8.GetBytes(Text(text));
    }

    /// <summary>Stored text: JSON when it parses, else each value replaced where it occurs.</summary>
    public string Text(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        try
        {
            if (text.TrimStart() is ['{', ..] or ['[', ..]) return Json(text);
        }
        catch (JsonException)
        {
        }
        return Scrub(text)!;
    }

    private string Json(string json)
    {
        var node = JsonNode.Parse(json);
        if (node is null) return json;
        node = Walk(node, null);
        return node?.ToJsonString() ?? "null";
    }

    private JsonNode? Walk(JsonNode node, string? key)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var name in o.Select(p => p.Key).ToList())
                {
                    if (o[name] is { } child && Walk(child, name) is var walked && !ReferenceEquals(walked, child)) o[name] = walked;
                    if (name.Contains('@', StringComparison.Ordinal) || _substrings.Any(v => name.Contains(v, StringComparison.OrdinalIgnoreCase)))
                    {
                        // A key that is itself an address (Mailchimp merge data keyed by address …).
                        var value = o[name];
                        o.Remove(name);
                        o[Scrub(name)!] = value;
                    }
                }
                return o;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    if (a[i] is { } item && Walk(item, key) is var walked && !ReferenceEquals(walked, item)) a[i] = walked;
                }
                return a;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                var s = v.GetValue<string>();
                if (key is not null && (PersonalKeys.Contains(key) || key.Contains("email", StringComparison.OrdinalIgnoreCase)) && s.Length > 0) return JsonValue.Create(Marker);
                return JsonValue.Create(Value(s));
            case JsonValue v when key is not null && PersonalKeys.Contains(key) && v.GetValueKind() == JsonValueKind.Number:
                return JsonValue.Create(Marker);
            default:
                return node;
        }
    }

    private string Value(string s) => _whole.Contains(s.Trim()) ? Marker : Scrub(s)!;

    private string Form(string body)
    {
        var parts = body.Split('&');
        for (var i = 0; i < parts.Length; i++)
        {
            var eq = parts[i].IndexOf('=', StringComparison.Ordinal);
            if (eq < 0) continue;
            var key = WebUtility.UrlDecode(parts[i][..eq]);
            var value = WebUtility.UrlDecode(parts[i][(eq + 1)..]);
            var redacted = PersonalKeys.Contains(key) || key.Contains("email", StringComparison.OrdinalIgnoreCase) ? Marker : Value(value);
            if (redacted != value) parts[i] = parts[i][..eq] + "=" + WebUtility.UrlEncode(redacted);
        }
        return Scrub(string.Join('&', parts))!;
    }

    /// <summary>Each personal value replaced wherever it occurs, as written and URL-encoded; null stays null.</summary>
    public string? Scrub(string? text)
    {
        if (text is null) return null;
        foreach (var v in _substrings)
        {
            text = text.Replace(v, Marker, StringComparison.OrdinalIgnoreCase);
            text = text.Replace(Uri.EscapeDataString(v), Marker, StringComparison.OrdinalIgnoreCase);
            text = text.Replace(WebUtility.UrlEncode(v), Marker, StringComparison.OrdinalIgnoreCase);
        }
        return text;
    }

    /// <summary><paramref name="text"/> with each of <paramref name="emails"/> replaced, as written and URL-encoded.</summary>
    public static string? Scrub(string? text, IReadOnlyList<string> emails) => text is null ? null : new Redaction(emails).Scrub(text);
}
