using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Junction.Dispatch;
using Junction.Tests.Dispatch.Fakes;
using Junction.Tests.Project;
using Junction.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Junction.Tests.Dispatch.Scenarios;

/// <summary>
/// A real Junction (intake → normalize → project → dispatch) with its five destinations pointed at
/// local fakes of Kit, Mailchimp, Teachable, a Standard Webhooks receiver and GA4.
/// </summary>
internal sealed partial class ScenarioRig : IAsyncDisposable
{
    public const string KitId = "kit";
    public const string MailchimpId = "mc";
    public const string TeachableId = "teachable";
    public const string HookId = "hook";
    public const string Ga4Id = "ga4";
    public const int CourseId = 101;
    public const string PaidTag = "Paid: Course Pro";
    public const string CustomerTag = "Customer";
    public const string HookSecret = JunctionServer.StandardSecret;

    private ScenarioRig() { }

    public JunctionServer Server { get; private set; } = null!;
    public FakeKit Kit { get; private set; } = null!;
    public FakeMailchimp Mailchimp { get; private set; } = null!;
    public FakeTeachable Teachable { get; private set; } = null!;
    public FakeWebhookReceiver Hook { get; private set; } = null!;
    public FakeGa4 Ga4 { get; private set; } = null!;

    public static async Task<ScenarioRig> StartAsync(string storage, Action<DispatchOptions>? options = null,
        Func<DestinationConfig, DestinationConfig>? destination = null, CapturedLogs? logs = null,
        Func<Junction.Config.JunctionConfig, Junction.Config.JunctionConfig>? configure = null, Action<IServiceCollection>? services = null)
    {
        var rig = new ScenarioRig
        {
            Kit = await FakeKit.StartAsync(),
            Mailchimp = await FakeMailchimp.StartAsync(),
            Teachable = await FakeTeachable.StartAsync(CourseId),
            Hook = await FakeWebhookReceiver.StartAsync(HookSecret),
            Ga4 = await FakeGa4.StartAsync(),
        };
        var tags = new Dictionary<string, string>(StringComparer.Ordinal) { ["paid:course-pro"] = PaidTag, ["customer"] = CustomerTag };
        var retry = TimeSpan.FromMilliseconds(100);
        var destinations = new DestinationConfig[]
        {
            new()
            {
                Id = KitId, Type = DestinationTypes.Kit, Traits = DestinationTypes.TraitsOf(DestinationTypes.Kit), BaseUrl = rig.Kit.BaseUrl, RateLimit = 100, RetryBaseDelay = retry, Tags = tags,
                Credentials = Map(("api_key", FakeKit.ApiKey)),
            },
            new()
            {
                Id = MailchimpId, Type = DestinationTypes.Mailchimp, Traits = DestinationTypes.TraitsOf(DestinationTypes.Mailchimp), BaseUrl = rig.Mailchimp.BaseUrl, RateLimit = 100, RetryBaseDelay = retry, Tags = tags,
                Credentials = Map(("api_key", FakeMailchimp.ApiKey)), Options = Map(("list_id", FakeMailchimp.ListId)),
            },
            new()
            {
                Id = TeachableId, Type = DestinationTypes.Teachable, Traits = DestinationTypes.TraitsOf(DestinationTypes.Teachable), BaseUrl = rig.Teachable.BaseUrl, RateLimit = 100, RetryBaseDelay = retry,
                Credentials = Map(("api_key", FakeTeachable.ApiKey)), Courses = Map(("course-pro", CourseId.ToString(System.Globalization.CultureInfo.InvariantCulture))),
            },
            new()
            {
                Id = HookId, Type = DestinationTypes.Webhook, Traits = DestinationTypes.TraitsOf(DestinationTypes.Webhook), BaseUrl = rig.Hook.Url, RateLimit = 100, RetryBaseDelay = retry,
                Credentials = Map(("secret", HookSecret)),
            },
            new()
            {
                Id = Ga4Id, Type = DestinationTypes.Ga4, Traits = DestinationTypes.TraitsOf(DestinationTypes.Ga4), BaseUrl = rig.Ga4.BaseUrl, RateLimit = 100, RetryBaseDelay = retry,
                Credentials = Map(("api_secret", FakeGa4.ApiSecret)), Options = Map(("measurement_id", FakeGa4.MeasurementId)),
            },
        };
        if (destination is not null) destinations = [.. destinations.Select(destination)];
        var config = ProjectKit.Config(storage) with { Destinations = destinations.ToDictionary(d => d.Id, StringComparer.Ordinal) };
        var dispatch = new DispatchOptions
        {
            WorkerId = "scenario",
            PollInterval = TimeSpan.FromMilliseconds(50),
            BreakerOpenFor = TimeSpan.FromMilliseconds(500),
            MaxBackoff = TimeSpan.FromMilliseconds(500),
        };
        options?.Invoke(dispatch);
        if (configure is not null) config = configure(config);
        rig.Server = await JunctionServer.StartAsync(config, services: s =>
        {
            s.AddSingleton(dispatch);
            services?.Invoke(s);
        }, logs: logs);
        return rig;
    }

    private static Dictionary<string, string> Map(params (string Key, string Value)[] pairs) =>
        pairs.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    public Task<string> PostAsync(string json) => ProjectKit.PostEventAsync(Server, json);

    public static string Unsubscribe(string email, string at) =>
        $$$"""
        {"type":"unsubscribe","occurred_at":"{{{at}}}","subject":{"email":"{{{email}}}"},"consent":[{"channel":"email","granted":false}]}
        """;

    /// <summary>Polls <paramref name="condition"/> until it holds; fails with <paramref name="what"/> and the delivery list otherwise.</summary>
    public async Task EventuallyAsync(Func<bool> condition, string what, double seconds = 15)
    {
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(seconds);
        while (TimeProvider.System.GetUtcNow() < deadline)
        {
            if (condition()) return;
            await Task.Delay(50);
        }
        if (condition()) return;
        Assert.Fail($"{what} did not happen within {seconds} s; deliveries: {await Server.Admin.GetStringAsync("/v1/deliveries?limit=100")}");
    }

    public async Task<List<JsonElement>> DeliveriesAsync(string query)
    {
        var page = await Server.Admin.GetFromJsonAsync<JsonElement>("/v1/deliveries?limit=500&" + query);
        return [.. page.GetProperty("items").EnumerateArray()];
    }

    public async Task<List<JsonElement>> WaitForDeliveriesAsync(string query, Func<List<JsonElement>, bool> done, double seconds = 15)
    {
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(seconds);
        List<JsonElement> last = [];
        while (TimeProvider.System.GetUtcNow() < deadline)
        {
            last = await DeliveriesAsync(query);
            if (done(last)) return last;
            await Task.Delay(50);
        }
        Assert.Fail($"/v1/deliveries?{query} never reached the expected state: {JsonSerializer.Serialize(last)}");
        return last;
    }

    /// <summary>Waits until nothing is pending, held or in flight at any destination.</summary>
    public async Task SettledAsync()
    {
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(15);
        while (TimeProvider.System.GetUtcNow() < deadline)
        {
            var open = 0;
            foreach (var state in new[] { "pending", "in_flight", "held" }) open += (await DeliveriesAsync("state=" + state)).Count;
            if (open == 0) return;
            await Task.Delay(50);
        }
        Assert.Fail("deliveries never settled: " + await Server.Admin.GetStringAsync("/v1/deliveries?limit=100"));
    }

    public async Task WaitForDestinationAsync(string id, Func<JsonElement, bool> done, double seconds = 15)
    {
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(seconds);
        JsonElement last = default;
        while (TimeProvider.System.GetUtcNow() < deadline)
        {
            var list = await Server.Admin.GetFromJsonAsync<JsonElement>("/v1/destinations");
            last = list.GetProperty("items").EnumerateArray().Single(d => d.GetProperty("id").GetString() == id).Clone();
            if (done(last)) return;
            await Task.Delay(50);
        }
        Assert.Fail($"destination {id} never reached the expected state: {last}");
    }

    public Task<HttpResponseMessage> AdminPostAsync(string path, string json = "{}") =>
        Server.Admin.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    /// <summary>Kit calls that add a tag to a subscriber, by tag id.</summary>
    public Dictionary<string, int> KitTagAdds() =>
        Kit.Api.Requests.Select(r => TagAdd().Match(r.Request)).Where(m => m.Success)
            .GroupBy(m => m.Groups[1].Value).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    [GeneratedRegex(@"^POST /v4/tags/(\d+)/subscribers$")]
    private static partial Regex TagAdd();

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        await Kit.DisposeAsync();
        await Mailchimp.DisposeAsync();
        await Teachable.DisposeAsync();
        await Hook.DisposeAsync();
        await Ga4.DisposeAsync();
    }
}
