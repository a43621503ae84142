// The e2e benchmark's load generator (bench/e2e.sh): open loop, intake → destination latency.
//
//   E2eGen --url JUNCTION --key API_KEY --sink SINK --rate R --duration D --prefix P
//          [--drain SECONDS (30)] [--connections N (512)]
//
// Posts R×D unique order.paid events to JUNCTION/v1/events (order id and Idempotency-Key "P-i",
// subject email "p-i@e2e.bench.example": one new person per event), the i-th due at start + i/R on
// the monotonic clock whether or not earlier requests have been answered (open loop: a slow server
// does not slow the schedule down, so its queueing shows in the latencies instead of hiding). Once
// all are sent it waits up to --drain seconds for the sink (bench/E2eSink) to have received every
// order that intake accepted, fetches the sink's arrival times and prints, per order, arrival − due
// time (both Stopwatch.GetTimestamp, CLOCK_MONOTONIC on Linux, one clock for every process):
//
//   RESULT rate=… sent=… accepted=… failed=… arrived=… missing=… p50_ms=… p99_ms=… max_ms=…
//          intake_p50_ms=… intake_p99_ms=… send_lag_max_ms=… drain_s=…
//
// Latencies are measured from when a request was due, not from when it went out; send_lag_max_ms
// says how far behind its schedule the generator itself fell (large values: the generator, not
// Junction, was the limit). Exit 0 whenever it could measure; 2 on bad arguments.

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

var options = new Dictionary<string, string>(StringComparer.Ordinal);
for (var i = 0; i + 1 < args.Length; i += 2)
{
    if (!args[i].StartsWith("--", StringComparison.Ordinal)) return Usage($"unexpected argument '{args[i]}'");
    options[args[i][2..]] = args[i + 1];
}
string Required(string name) => options.TryGetValue(name, out var v) ? v : throw new ArgumentException($"--{name} is required");
double Number(string name, double fallback) =>
    options.TryGetValue(name, out var v)
        ? double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d > 0 ? d : throw new ArgumentException($"--{name}: expected a positive number, got '{v}'")
        : fallback;

Uri junction, sink;
string key, prefix;
double rate, duration, drain;
int connections;
try
{
    junction = new Uri(Required("url").TrimEnd('/') + "/v1/events");
    sink = new Uri(Required("sink").TrimEnd('/') + "/");
    key = Required("key");
    prefix = Required("prefix");
    rate = Number("rate", 0);
    duration = Number("duration", 0);
    drain = Number("drain", 30);
    connections = (int)Number("connections", 512);
    if (rate == 0 || duration == 0) throw new ArgumentException("--rate and --duration are required");
}
catch (ArgumentException ex)
{
    return Usage(ex.Message);
}

var count = (int)Math.Round(rate * duration);
var frequency = (double)Stopwatch.Frequency;
var due = new long[count];
var sentAt = new long[count];
var answeredAt = new long[count];
var status = new int[count];   // 0 no answer yet, -1 exception, else the HTTP status

using var http = new HttpClient(new SocketsHttpHandler
{
    MaxConnectionsPerServer = connections,
    PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
    UseProxy = false,
    AutomaticDecompression = DecompressionMethods.None,
})
{ Timeout = TimeSpan.FromSeconds(60) };
var auth = new AuthenticationHeaderValue("Bearer", key);
var json = new MediaTypeHeaderValue("application/json");

var tasks = new Task[count];
var start = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 20;   // 50 ms to get going
for (var i = 0; i < count; i++)
{
    due[i] = start + (long)(i * frequency / rate);
    while (true)
    {
        var wait = due[i] - Stopwatch.GetTimestamp();
        if (wait <= 0) break;
        if (wait > Stopwatch.Frequency / 500) Thread.Sleep(1);   // more than 2 ms ahead: sleep
        else Thread.SpinWait(50);
    }
    tasks[i] = SendAsync(i);
}
var sendingEnded = Stopwatch.GetTimestamp();

// Every answer, then every accepted order at the sink, within the drain budget (counted from the last send).
var drainDeadline = sendingEnded + (long)(drain * frequency);
var all = Task.WhenAll(tasks);
await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(drain + 60)));
var acceptedIds = new HashSet<string>(StringComparer.Ordinal);
for (var i = 0; i < count; i++)
{
    if (status[i] == 200) acceptedIds.Add(Id(i));
}
var arrivedCount = 0;
while (true)
{
    arrivedCount = int.Parse(await http.GetStringAsync(new Uri(sink, "count?prefix=" + Uri.EscapeDataString(prefix + "-"))), CultureInfo.InvariantCulture);
    if (arrivedCount >= acceptedIds.Count || Stopwatch.GetTimestamp() > drainDeadline) break;
    await Task.Delay(100);
}
var drained = (Stopwatch.GetTimestamp() - sendingEnded) / frequency;

var arrivals = new Dictionary<string, long>(StringComparer.Ordinal);
var sinkFrequency = frequency;
foreach (var line in (await http.GetStringAsync(new Uri(sink, "arrivals?prefix=" + Uri.EscapeDataString(prefix + "-")))).Split('\n', StringSplitOptions.RemoveEmptyEntries))
{
    var parts = line.Split(' ');
    if (parts[0] == "frequency") sinkFrequency = double.Parse(parts[1], CultureInfo.InvariantCulture);
    else arrivals[parts[0]] = long.Parse(parts[1], CultureInfo.InvariantCulture);
}
if (sinkFrequency != frequency)
{
    Console.Error.WriteLine($"the sink's Stopwatch frequency {sinkFrequency} differs from ours {frequency}: the clocks cannot be compared");
    return 1;
}

var latencies = new List<double>(count);
var intake = new List<double>(count);
int accepted = 0, failed = 0, missing = 0;
var statuses = new SortedDictionary<int, int>();
double lagMax = 0;
for (var i = 0; i < count; i++)
{
    lagMax = Math.Max(lagMax, (sentAt[i] - due[i]) / frequency * 1000);
    if (status[i] != 200)
    {
        failed++;
        statuses[status[i]] = statuses.GetValueOrDefault(status[i]) + 1;
        continue;
    }
    accepted++;
    intake.Add((answeredAt[i] - due[i]) / frequency * 1000);
    if (arrivals.TryGetValue(Id(i), out var arrived)) latencies.Add((arrived - due[i]) / frequency * 1000);
    else missing++;
}
latencies.Sort();
intake.Sort();

var result = string.Create(CultureInfo.InvariantCulture,
    $"RESULT rate={rate} sent={count} accepted={accepted} failed={failed} arrived={latencies.Count} missing={missing} " +
    $"p50_ms={Pct(latencies, 0.50):F1} p99_ms={Pct(latencies, 0.99):F1} max_ms={Pct(latencies, 1):F1} " +
    $"intake_p50_ms={Pct(intake, 0.50):F1} intake_p99_ms={Pct(intake, 0.99):F1} send_lag_max_ms={lagMax:F1} drain_s={drained:F1}");
if (failed > 0)
{
    Console.WriteLine("intake answers other than 200 (status: count; -1 = no answer or an exception): "
        + string.Join(", ", statuses.Select(s => $"{s.Key}: {s.Value}")));
}
Console.WriteLine(result);
return 0;

string Id(int i) => string.Create(CultureInfo.InvariantCulture, $"{prefix}-{i}");

async Task SendAsync(int i)
{
    var id = Id(i);
    var body = string.Create(CultureInfo.InvariantCulture,
        $$$"""{"id":"{{{id}}}","type":"order.paid","subject":{"email":"{{{id.ToLowerInvariant()}}}@e2e.bench.example"},"order":{"order_id":"{{{id}}}","amount":4900,"currency":"USD","items":[{"sku":"course-pro","quantity":1,"amount":4900}]}}""");
    using var request = new HttpRequestMessage(HttpMethod.Post, junction) { Content = new StringContent(body, Encoding.UTF8) };
    request.Content.Headers.ContentType = json;
    request.Headers.Authorization = auth;
    request.Headers.TryAddWithoutValidation("Idempotency-Key", id);
    sentAt[i] = Stopwatch.GetTimestamp();
    try
    {
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead).ConfigureAwait(false);
        answeredAt[i] = Stopwatch.GetTimestamp();
        status[i] = (int)response.StatusCode;
    }
    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
    {
        answeredAt[i] = Stopwatch.GetTimestamp();
        status[i] = -1;
    }
}

static double Pct(List<double> sorted, double p) =>
    sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

static int Usage(string problem)
{
    Console.Error.WriteLine($"E2eGen: {problem}");
    Console.Error.WriteLine("usage: E2eGen --url JUNCTION --key API_KEY --sink SINK --rate R --duration D --prefix P [--drain S] [--connections N]");
    return 2;
}
