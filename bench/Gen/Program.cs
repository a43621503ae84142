// The intake benchmark's helper (bench/intake.sh).
//
//   Gen pool  --out PATH --count N --shards S --tag TAG --secret SECRET --host HOST --path PATH [--size BYTES]
//       Writes S files PATH.0 … PATH.{S-1} (one per wrk thread), N requests in all. Each is a whole
//       HTTP/1.1 request, ready to send, preceded by its length: "<8-digit length>\n<request>". Its body
//       is a payment_intent.succeeded event of about BYTES bytes (default 1024) with an id
//       evt_<TAG><index> never repeated within the pool, signed now with the Stripe scheme:
//       HMAC-SHA256 keyed with the UTF-8 bytes of the whole secret (whsec_ prefix included) over
//       "{t}." + body, sent as "Stripe-Signature: t=<t>,v1=<lowercase hex>".
//
//   Gen count --url BASE --source ID --token TOKEN [--after CURSOR --base N]
//       Pages through GET /v1/raw-events?source=ID&limit=1000&after=CURSOR and prints
//       "stored=<total> resume=<cursor> resume_base=<events up to that cursor>". Passing the printed
//       resume and resume_base back as --after and --base counts only what was stored since.

using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

var options = new Dictionary<string, string>(StringComparer.Ordinal);
for (var i = 1; i + 1 < args.Length; i += 2)
{
    if (!args[i].StartsWith("--", StringComparison.Ordinal)) return Usage($"unexpected argument '{args[i]}'");
    options[args[i][2..]] = args[i + 1];
}

try
{
    return args.Length == 0 ? Usage("no verb")
        : args[0] == "pool" ? Pool.Write(options)
        : args[0] == "count" ? await Count.RunAsync(options)
        : Usage($"unknown verb '{args[0]}'");
}
catch (ArgumentException ex)
{
    return Usage(ex.Message);
}

static int Usage(string why)
{
    Console.Error.WriteLine($"Gen: {why}. Usage: Gen pool --out PATH --count N --shards S --tag TAG --secret SECRET --host HOST --path PATH [--size BYTES]");
    Console.Error.WriteLine("                 Gen count --url BASE --source ID --token TOKEN [--after CURSOR --base N]");
    return 2;
}

internal static class Options
{
    public static string Required(this Dictionary<string, string> o, string name) =>
        o.TryGetValue(name, out var v) ? v : throw new ArgumentException($"--{name} is required");

    public static long Number(this Dictionary<string, string> o, string name, long? fallback = null) =>
        o.TryGetValue(name, out var v) ? long.Parse(v, CultureInfo.InvariantCulture)
        : fallback ?? throw new ArgumentException($"--{name} is required");
}

internal static class Pool
{
    public static int Write(Dictionary<string, string> o)
    {
        var path = o.Required("out");
        var count = o.Number("count");
        var shards = (int)o.Number("shards", 1);
        var tag = o.Required("tag");
        var key = Encoding.UTF8.GetBytes(o.Required("secret"));
        var host = o.Required("host");
        var target = o.Required("path");
        var size = (int)o.Number("size", 1024);
        var now = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds();
        var signedPrefix = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{now}."));

        // Shard s holds indexes s, s+S, s+2S, …: every wrk thread gets a disjoint share of ids.
        Parallel.For(0, shards, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, shard =>
        {
            using var file = new FileStream($"{path}.{shard}", FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            var message = new byte[1 << 20];
            var mac = new byte[32];
            for (var i = (long)shard; i < count; i += shards)
            {
                var body = Encoding.UTF8.GetBytes(StripeEvent.PaymentIntentSucceeded(tag, i, now, size));
                // The signed message: "{t}." followed by the raw body bytes.
                signedPrefix.CopyTo(message, 0);
                body.CopyTo(message, signedPrefix.Length);
                HMACSHA256.HashData(key, message.AsSpan(0, signedPrefix.Length + body.Length), mac);
                var head = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
                    $"POST {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: Stripe/1.0 (+https://stripe.com/docs/webhooks)\r\n"
                    + $"Accept: */*; q=0.5, application/xml\r\nContent-Type: application/json\r\n"
                    + $"Stripe-Signature: t={now},v1={Convert.ToHexStringLower(mac)}\r\nContent-Length: {body.Length}\r\n\r\n"));
                file.Write(Encoding.ASCII.GetBytes((head.Length + body.Length).ToString("D8", CultureInfo.InvariantCulture) + "\n"));
                file.Write(head);
                file.Write(body);
            }
        });
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"pool: {count} requests signed at t={now} in {shards} file(s) {path}.*, ids evt_{tag}…, bodies of {StripeEvent.PaymentIntentSucceeded(tag, 0, now, size).Length} bytes"));
        return 0;
    }
}

internal static class StripeEvent
{
    /// <summary>A payment_intent.succeeded event as Stripe sends it (API 2024-06-20), padded in metadata to about <paramref name="size"/> bytes.</summary>
    public static string PaymentIntentSucceeded(string tag, long index, long created, int size)
    {
        var n = tag + index.ToString("D9", CultureInfo.InvariantCulture);
        var t = created.ToString(CultureInfo.InvariantCulture);
        var t0 = (created - 3).ToString(CultureInfo.InvariantCulture);
        var head = "{\"id\":\"evt_" + n + "\",\"object\":\"event\",\"api_version\":\"2024-06-20\",\"created\":" + t
            + ",\"data\":{\"object\":{\"id\":\"pi_" + n + "\",\"object\":\"payment_intent\",\"amount\":4900,\"amount_capturable\":0"
            + ",\"amount_details\":{\"tip\":{}},\"amount_received\":4900,\"application\":null,\"canceled_at\":null,\"capture_method\":\"automatic\""
            + ",\"client_secret\":\"pi_" + n + "_secret_Bq4xWm7Zr2\",\"confirmation_method\":\"automatic\",\"created\":" + t0
            + ",\"currency\":\"usd\",\"customer\":\"cus_" + n + "\",\"description\":\"Creator Pro - annual\",\"invoice\":null"
            + ",\"last_payment_error\":null,\"latest_charge\":\"ch_" + n + "\",\"livemode\":false"
            + ",\"metadata\":{\"utm_source\":\"newsletter\",\"utm_campaign\":\"spring-launch\",\"note\":\"";
        var tail = "\"},\"payment_method\":\"pm_" + n + "\",\"payment_method_types\":[\"card\"],\"receipt_email\":\"buyer" + n
            + "@example.com\",\"status\":\"succeeded\",\"transfer_data\":null}},\"livemode\":false,\"pending_webhooks\":1"
            + ",\"request\":{\"id\":\"req_" + n + "\",\"idempotency_key\":\"a1f3c2d4-" + n + "\"},\"type\":\"payment_intent.succeeded\"}";
        var pad = Math.Max(0, size - head.Length - tail.Length);
        return head + new string('x', pad) + tail;
    }
}

internal static class Count
{
    public static async Task<int> RunAsync(Dictionary<string, string> o)
    {
        var url = o.Required("url").TrimEnd('/');
        var source = o.Required("source");
        var after = o.GetValueOrDefault("after", "");
        var total = o.Number("base", 0);
        var resume = after;
        var resumeBase = total;

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", o.Required("token"));
        while (true)
        {
            var query = $"{url}/v1/raw-events?source={Uri.EscapeDataString(source)}&limit=1000"
                + (after.Length > 0 ? $"&after={Uri.EscapeDataString(after)}" : "");
            using var response = await http.GetAsync(new Uri(query));
            var text = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode)
            {
                Console.Error.WriteLine($"count: GET {query} answered {(int)response.StatusCode}: {text}");
                return 1;
            }
            using var page = JsonDocument.Parse(text);
            total += page.RootElement.GetProperty("items").GetArrayLength();
            var next = page.RootElement.GetProperty("next");
            if (next.ValueKind != JsonValueKind.String) break;
            after = next.GetString()!;
            // A full page ends at its cursor: the next count may start there.
            resume = after;
            resumeBase = total;
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"stored={total} resume={resume} resume_base={resumeBase}"));
        return 0;
    }
}
