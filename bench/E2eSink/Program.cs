// The e2e benchmark's sink (bench/e2e.sh): Junction's outgoing `webhook` destination points here.
// For each POST /hook it checks the Standard Webhooks signature (when --secret is given), reads the
// canonical event's data.order.order_id and records the first arrival of that id on the machine's
// monotonic clock (Stopwatch.GetTimestamp: CLOCK_MONOTONIC on Linux, the same clock in every
// process, so E2eGen can subtract its own send times from it).
//
//   dotnet E2eSink.dll --urls http://127.0.0.1:PORT [--secret whsec_…]
//
//   POST /hook                 the webhook; 200 (401 on a bad signature, 400 without an order id)
//   GET  /count?prefix=P       how many distinct order ids starting with P have arrived
//   GET  /arrivals?prefix=P    "frequency F" then one "order_id ticks" line per arrival
//   GET  /stats                received, distinct, duplicates, bad signatures, unreadable bodies
//   GET  /healthz

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

var urls = "http://127.0.0.1:5098";
string? secret = null;
for (var i = 0; i + 1 < args.Length; i++)
{
    if (args[i] == "--urls") urls = args[i + 1];
    if (args[i] == "--secret") secret = args[i + 1];
}
byte[]? key = null;
if (secret is not null)
{
    if (!secret.StartsWith("whsec_", StringComparison.Ordinal))
    {
        Console.Error.WriteLine("--secret: expected whsec_ followed by base64");
        return 2;
    }
    key = Convert.FromBase64String(secret["whsec_".Length..]);
}

var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
builder.WebHost.UseUrls(urls);
builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
var app = builder.Build();

var arrivals = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
long received = 0, duplicates = 0, badSignatures = 0, unreadable = 0;

app.MapGet("/healthz", () => Results.Text("""{"status":"up"}""", "application/json"));

app.MapPost("/hook", async (HttpContext context) =>
{
    var now = Stopwatch.GetTimestamp();
    Interlocked.Increment(ref received);
    using var buffer = new MemoryStream();
    await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
    var body = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);

    if (key is not null && !SignatureOk(key, context.Request.Headers, body.Span))
    {
        Interlocked.Increment(ref badSignatures);
        return Results.StatusCode(StatusCodes.Status401Unauthorized);
    }
    if (OrderId(body) is not { } orderId)
    {
        Interlocked.Increment(ref unreadable);
        return Results.StatusCode(StatusCodes.Status400BadRequest);
    }
    if (!arrivals.TryAdd(orderId, now)) Interlocked.Increment(ref duplicates);
    return Results.Ok();
});

app.MapGet("/count", (string? prefix) =>
    Results.Text(arrivals.Keys.Count(k => k.StartsWith(prefix ?? "", StringComparison.Ordinal)).ToString(CultureInfo.InvariantCulture)));

app.MapGet("/arrivals", (string? prefix) =>
{
    var text = new StringBuilder();
    text.Append(CultureInfo.InvariantCulture, $"frequency {Stopwatch.Frequency}\n");
    foreach (var (id, ticks) in arrivals)
    {
        if (id.StartsWith(prefix ?? "", StringComparison.Ordinal)) text.Append(CultureInfo.InvariantCulture, $"{id} {ticks}\n");
    }
    return Results.Text(text.ToString());
});

app.MapGet("/stats", () => Results.Text(string.Create(CultureInfo.InvariantCulture,
    $"received={Interlocked.Read(ref received)} distinct={arrivals.Count} duplicates={Interlocked.Read(ref duplicates)} bad_signatures={Interlocked.Read(ref badSignatures)} unreadable={Interlocked.Read(ref unreadable)}")));

await app.RunAsync();
return 0;

// Standard Webhooks: webhook-signature holds space-separated "v1,<base64>" entries, each
// HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}"); compared in constant time.
static bool SignatureOk(byte[] key, IHeaderDictionary headers, ReadOnlySpan<byte> body)
{
    var id = headers["webhook-id"].ToString();
    var timestamp = headers["webhook-timestamp"].ToString();
    var signatures = headers["webhook-signature"].ToString();
    if (id.Length == 0 || timestamp.Length == 0 || signatures.Length == 0) return false;
    var prefix = Encoding.UTF8.GetBytes($"{id}.{timestamp}.");
    var signed = new byte[prefix.Length + body.Length];
    prefix.CopyTo(signed, 0);
    body.CopyTo(signed.AsSpan(prefix.Length));
    var expected = HMACSHA256.HashData(key, signed);
    var ok = false;
    foreach (var entry in signatures.Split(' ', StringSplitOptions.RemoveEmptyEntries))
    {
        if (!entry.StartsWith("v1,", StringComparison.Ordinal)) continue;
        var given = new byte[32];
        if (Convert.TryFromBase64String(entry[3..], given, out var written) && written == 32)
        {
            ok |= CryptographicOperations.FixedTimeEquals(given, expected);
        }
    }
    return ok;
}

// data.order.order_id of the Standard Webhooks envelope {type, timestamp, data}.
static string? OrderId(ReadOnlyMemory<byte> body)
{
    try
    {
        using var document = JsonDocument.Parse(body);
        return document.RootElement.TryGetProperty("data", out var data)
               && data.ValueKind == JsonValueKind.Object
               && data.TryGetProperty("order", out var order)
               && order.ValueKind == JsonValueKind.Object
               && order.TryGetProperty("order_id", out var id)
               && id.ValueKind == JsonValueKind.String
            ? id.GetString()
            : null;
    }
    catch (JsonException)
    {
        return null;
    }
}
