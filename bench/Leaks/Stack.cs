using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Junction.Tests.Dispatch.Fakes;

namespace Junction.Bench.Leaks;

/// <summary>
/// The creator's stack for one run: fakes of Stripe, Kit and Teachable on loopback, and the real
/// <c>junction serve</c> (a child process, its own store) configured against them.
/// </summary>
internal sealed class Stack : IAsyncDisposable
{
    public const string AdminToken = "bench-admin-token-0123456789abcdef";
    public const string ApiKey = "bench-api-key-0123456789abcdef";
    public const string StripeSecret = "whsec_bench_leaks_secret_0123456789";
    public const string PaidTag = "Paid: Course Pro";
    public const int CourseId = 101;

    private Process? _junction;

    private Stack(FakeStripe stripe, FakeKit kit, FakeTeachable teachable)
    {
        Stripe = stripe;
        Kit = kit;
        Teachable = teachable;
    }

    public FakeStripe Stripe { get; }
    public const long SubscribeForm = 9001;

    public FakeKit Kit { get; }
    public FakeTeachable Teachable { get; }
    public HttpClient Admin { get; } = new() { Timeout = TimeSpan.FromSeconds(60) };
    public HttpClient Client { get; } = new() { Timeout = TimeSpan.FromSeconds(60) };
    public Uri BaseUrl { get; private set; } = null!;

    public static async Task<Stack> StartAsync(string junctionDll, string storage, string workDir, string name)
    {
        var stack = new Stack(await FakeStripe.StartAsync(), await FakeKit.StartAsync(), await FakeTeachable.StartAsync(CourseId));
        stack.Kit.AddTag(PaidTag);
        // The creator's single opt-in form: how a buyer Kit holds inactive becomes subscribed when they opt in.
        stack.Kit.SingleOptInForms.Add(SubscribeForm);
        var port = FreePort();
        stack.BaseUrl = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
        stack.Admin.BaseAddress = stack.BaseUrl;
        stack.Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        stack.Client.BaseAddress = stack.BaseUrl;
        var config = Path.Combine(workDir, $"junction-{name}.yaml");
        await File.WriteAllTextAsync(config, stack.Config(storage));
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { junctionDll, "serve", "--config", config, "--urls", stack.BaseUrl.ToString().TrimEnd('/') },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["Logging__LogLevel__System.Net.Http.HttpClient"] = "Warning";
        start.Environment.Remove("JUNCTION_STORAGE");
        var log = new StreamWriter(Path.Combine(workDir, $"junction-{name}.log")) { AutoFlush = true };
        stack._junction = Process.Start(start) ?? throw new InvalidOperationException("could not start junction serve");
        stack._junction.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        stack._junction.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        stack._junction.BeginOutputReadLine();
        stack._junction.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (stack._junction.HasExited) throw new InvalidOperationException($"junction serve exited with {stack._junction.ExitCode} (log: {workDir}/junction-{name}.log)");
            try
            {
                using var health = await stack.Client.GetAsync("/healthz");
                if (health.IsSuccessStatusCode) return stack;
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            await Task.Delay(100);
        }
        throw new InvalidOperationException("junction serve did not answer /healthz within 60 s");
    }

    private string Config(string storage) => $$"""
        storage: "{{storage}}"
        admin:
          tokens: ["{{AdminToken}}"]
        api_keys: ["{{ApiKey}}"]
        sources:
          stripe:
            provider: stripe
            secrets: ["{{StripeSecret}}"]
            api_key: "{{FakeStripe.ApiKey}}"
            api_base_url: "{{Stripe.BaseUrl.ToString().TrimEnd('/')}}"
          app:
            provider: api
        tags: ["paid:course-pro"]
        products:
          course-pro:
            match:
              - { source: stripe, sku: course-pro }
            tags_while_active: ["paid:course-pro"]
        ownership:
          subscription_preferences: [email, forms, app]   # opt-ins come from the creator's own code (an api source)
        destinations:
          kit:
            type: kit
            base_url: "{{Kit.BaseUrl.ToString().TrimEnd('/')}}"
            credentials: { api_key: "{{FakeKit.ApiKey}}" }
            rate_limit: 1000
            retry: { base_delay: 1s }
            tags: { "paid:course-pro": "{{PaidTag}}" }
            subscribe_form: "{{SubscribeForm}}"
          teachable:
            type: teachable
            base_url: "{{Teachable.BaseUrl.ToString().TrimEnd('/')}}"
            credentials: { api_key: "{{FakeTeachable.ApiKey}}" }
            rate_limit: 1000
            retry: { base_delay: 1s }
            courses: { course-pro: "{{CourseId.ToString(CultureInfo.InvariantCulture)}}" }
        audits:
          window: 7d
          delay_threshold: 1h     # a missed payment's tag lands when the audit heals it, minutes after the purchase
          heal: true
          schedule: { payments: "off", enrollments: "off", tags: "off" }   # the benchmark runs its one audit itself
        """;

    /// <summary>POST /v1/events with the api key (an opt-in from the creator's own code).</summary>
    public async Task<int> PostEventAsync(string json, string idempotencyKey, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/events") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        using var response = await Client.SendAsync(request, cancellationToken);
        return (int)response.StatusCode;
    }

    public Task<int> SendStripeAsync(string eventId, CancellationToken cancellationToken) =>
        Stripe.SendAsync(Client, new Uri(BaseUrl, "/v1/hooks/stripe"), StripeSecret, eventId, cancellationToken);

    /// <summary>Deliveries not finished yet (pending, in flight or held), at most 1 000 counted.</summary>
    public async Task<int> OpenDeliveriesAsync()
    {
        var open = 0;
        foreach (var state in new[] { "pending", "in_flight", "held" })
        {
            var page = await Admin.GetFromJsonAsync<JsonElement>($"/v1/deliveries?state={state}&limit=500");
            open += page.GetProperty("items").GetArrayLength();
        }
        return open;
    }

    /// <summary>Requests every fake has answered so far.</summary>
    public int FakeRequests => Stripe.Api.Requests.Count + Kit.Api.Requests.Count + Teachable.Api.Requests.Count;

    /// <summary>
    /// Waits until the pipeline has settled: no delivery open and no fake asked anything for
    /// <paramref name="quiet"/> seconds in a row (normalization, projection and retries done). False after <paramref name="limit"/>.
    /// </summary>
    public async Task<bool> SettleAsync(TimeSpan limit, int quiet = 3)
    {
        var clock = Stopwatch.StartNew();
        var (calm, last) = (0, -1);
        while (clock.Elapsed < limit)
        {
            await Task.Delay(1000);
            var open = await OpenDeliveriesAsync();
            var requests = FakeRequests;
            calm = open == 0 && requests == last ? calm + 1 : 0;
            last = requests;
            if (calm >= quiet) return true;
        }
        return false;
    }

    public async Task<string?> PersonIdAsync(string email)
    {
        using var response = await Admin.GetAsync($"/v1/people?email={Uri.EscapeDataString(email)}");
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
    }

    /// <summary>Starts one audit and waits for its report.</summary>
    public async Task<(JsonElement Report, TimeSpan Wall)> AuditAsync(bool heal, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        using var start = await Admin.PostAsJsonAsync("/v1/audits", new { since = "7d", heal });
        if (start.StatusCode != HttpStatusCode.Accepted) throw new InvalidOperationException($"POST /v1/audits answered {(int)start.StatusCode}: {await start.Content.ReadAsStringAsync()}");
        var id = (await start.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        while (clock.Elapsed < limit)
        {
            var report = await Admin.GetFromJsonAsync<JsonElement>($"/v1/audits/{id}");
            if (report.GetProperty("status").GetString() != "running") return (report, clock.Elapsed);
            await Task.Delay(100);
        }
        throw new TimeoutException($"audit {id} still running after {limit.TotalSeconds} s");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (_junction is { HasExited: false } p)
        {
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
        }
        _junction?.Dispose();
        Admin.Dispose();
        Client.Dispose();
        await Stripe.DisposeAsync();
        await Kit.DisposeAsync();
        await Teachable.DisposeAsync();
    }
}
