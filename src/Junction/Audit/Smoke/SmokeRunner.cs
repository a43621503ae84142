using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Junction.Config;
using Junction.Dispatch;
using Junction.Identity;
using Junction.State;
using Junction.Storage;

namespace Junction.Audit;

/// <summary>One step of a smoke run, as stored and shown: what held (or not) and when.</summary>
public sealed record SmokeStep(string Step, bool Ok, string Detail, DateTimeOffset At);

public sealed record SmokeOutcome(string Id, bool Passed, string? FailedStep, IReadOnlyList<SmokeStep> Steps);

/// <summary>The steps of a run, in order; a failed run names the first that did not hold.</summary>
public static class SmokeStepNames
{
    public const string Lead = "lead";
    public const string LeadSynced = "lead_at_email_platform";
    public const string Purchase = "purchase";
    public const string AccessGranted = "paid_tag_and_enrollment";
    public const string Refund = "refund";
    public const string AccessRevoked = "refund_removed_access";
    public const string Cleanup = "cleanup";
}

/// <summary>
/// <c>junction smoke</c> (R6.3): drives a synthetic lead → purchase → refund through a running
/// Junction and proves each step by read-back at every state destination — the lead reached the
/// email platform, the purchase produced the paid tag and the enrollment, the refund removed both —
/// then unsubscribes the smoke contact. The purchase goes through the payment provider's sandbox
/// (Stripe test mode: a PaymentIntent confirmed with a test card, then refunded; Stripe's own
/// webhooks come back) or, without one, as a correctly signed test-mode event posted to Junction's
/// intake. Every event of the run is test mode, so the smoke person is a test person: out of
/// business figures (the audit, the reconciliation rate) and out of analytics.
/// </summary>
public sealed class SmokeRunner(
    JunctionConfig config, IJunctionStore store, IHttpClientFactory http, TimeProvider time, AuditRunner audit, AuditMetrics metrics,
    ILogger<SmokeRunner> logger)
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);
    private JunctionConfig Config { get; } = config;
    private IHttpClientFactory Http { get; } = http;
    private TimeProvider Time { get; } = time;
    private AuditRunner Audit { get; } = audit;
    private readonly RelationalStore _store = store as RelationalStore ?? throw new ArgumentException("smoke runs need the relational store", nameof(store));

    public SmokeSettings Settings => Config.Smoke ?? throw new InvalidOperationException("smoke: is not configured");

    /// <summary>Runs every step against the Junction answering at <paramref name="junction"/>; records the run as it goes.</summary>
    public async Task<SmokeOutcome> RunAsync(string trigger, Uri junction, IProgress<string>? progress, CancellationToken cancellationToken) =>
        await RunCoreAsync(await BeginAsync(trigger, cancellationToken), junction, progress, cancellationToken);

    /// <summary>Records a run and drives it in the background; returns its id at once.</summary>
    public async Task<string> StartAsync(string trigger, Uri junction, CancellationToken cancellationToken)
    {
        var id = await BeginAsync(trigger, cancellationToken);
        _ = Task.Run(() => RunCoreAsync(id, junction, null, CancellationToken.None), CancellationToken.None);
        return id;
    }

    private async Task<string> BeginAsync(string trigger, CancellationToken cancellationToken)
    {
        var now = Time.GetUtcNow();
        var id = "smk_" + Guid.CreateVersion7(now).ToString("N");
        await _store.InsertSmokeRunAsync(id, trigger, Settings.Mode, Settings.Source, now.ToUnixTimeMilliseconds(), cancellationToken);
        return id;
    }

    private async Task<SmokeOutcome> RunCoreAsync(string id, Uri junction, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var settings = Settings;
        var source = Config.Sources[settings.Source];
        // The run's tail: unique per run (a UUIDv7's last hex digits are random), short enough for an address.
        var run = id[^10..];
        var email = settings.Email.Replace("{run}", run, StringComparison.Ordinal);

        var steps = new List<SmokeStep>();
        string? personId = null;
        using var client = Http.CreateClient(nameof(SmokeRunner));
        client.BaseAddress = junction;
        var drive = new Drive(this, settings, source, client, run, email);

        async Task<bool> Step(string name, Func<Task<string>> action)
        {
            progress?.Report($"{name} …");
            SmokeStep step;
            try
            {
                step = new SmokeStep(name, true, await action(), Time.GetUtcNow());
            }
            catch (Exception ex) when (ex is SmokeStepException or HttpRequestException or Providers.ProviderApiException or ReadBackException or TaskCanceledException
                && !cancellationToken.IsCancellationRequested)
            {
                step = new SmokeStep(name, false, ex.Message, Time.GetUtcNow());
            }
            steps.Add(step);
            progress?.Report($"{(step.Ok ? "✓" : "✗")} {name}: {step.Detail}");
            personId = drive.PersonId ?? personId;
            await SaveAsync(id, steps, personId, step.Ok ? null : name, finished: !step.Ok, cancellationToken);
            return step.Ok;
        }

        var passed = await Step(SmokeStepNames.Lead, drive.PostLeadAsync)
            && await Step(SmokeStepNames.LeadSynced, () => drive.ConvergedAsync("the lead", s => s.Consent.Any(c => c.Channel == "email" && c.Granted), lead: true))
            && await Step(SmokeStepNames.Purchase, drive.PurchaseAsync)
            && await Step(SmokeStepNames.AccessGranted, () => drive.ConvergedAsync("the purchase",
                s => s.Entitlements.Any(e => e.Product == settings.Product && e.State == EntitlementStates.Active)))
            && await Step(SmokeStepNames.Refund, drive.RefundAsync)
            && await Step(SmokeStepNames.AccessRevoked, () => drive.ConvergedAsync("the refund",
                s => s.Orders.Any(o => o.OrderId == drive.OrderId && o.Status == OrderStatuses.Refunded)
                    && !s.Entitlements.Any(e => e.Product == settings.Product && e.State is EntitlementStates.Active or EntitlementStates.PendingRevocation)))
            && await Step(SmokeStepNames.Cleanup, drive.CleanupAsync);

        if (passed) await SaveAsync(id, steps, personId, null, finished: true, cancellationToken);
        var failed = steps.FirstOrDefault(s => !s.Ok);
        if (passed) metrics.SmokeSucceeded(Time.GetUtcNow());
        else Observability.Log.SmokeFailed(logger, id, failed!.Step, Observability.Pii.Redact(failed.Detail) ?? "");
        return new SmokeOutcome(id, passed, failed?.Step, steps);
    }

    private async Task SaveAsync(string id, List<SmokeStep> steps, string? personId, string? failedStep, bool finished, CancellationToken cancellationToken)
    {
        var status = failedStep is not null ? "failed" : finished ? "passed" : "running";
        await _store.UpdateSmokeRunAsync(id, JsonSerializer.Serialize(steps, SmokeJson.Default.ListSmokeStep), personId, status, failedStep,
            finished ? Time.GetUtcNow().ToUnixTimeMilliseconds() : null, CancellationToken.None);
        _ = cancellationToken;
    }

    /// <summary>One run's moves: what it posts, where it buys, and how it waits for every tool to agree.</summary>
    private sealed class Drive(SmokeRunner owner, SmokeSettings settings, SourceConfig source, HttpClient junction, string run, string email)
    {
        private readonly TimeProvider _time = owner.Time;
        private string? _paymentIntent;

        public string? PersonId { get; private set; }

        /// <summary>Junction's order id for the purchase: the payment provider's (a PaymentIntent …) or the posted order id.</summary>
        public string OrderId => _paymentIntent ?? $"smoke_{run}";

        private long Amount => settings.Amount;

        public async Task<string> PostLeadAsync()
        {
            var lead = owner.Config.Sources[settings.LeadSource];
            if (lead.Provider == Capture.FormProvider.ProviderName)
            {
                await PostFormAsync(lead.Id, [new("email", email), new("consent_email", "yes"), new("test_mode", "true"),
                    new("utm_source", "junction-smoke"), new("utm_campaign", "smoke")]);
                return $"opt-in posted to the form source {lead.Id}";
            }
            await PostEventAsync($$$"""
                {"type":"optin","source":"{{{lead.Id}}}","test_mode":true,"occurred_at":"{{{Observability.Iso.Utc(_time.GetUtcNow())}}}",
                 "subject":{"email":"{{{email}}}"},"consent":[{"channel":"email","granted":true}],"attribution":{"utm_source":"junction-smoke","utm_campaign":"smoke"}}
                """);
            return $"opt-in posted to the api source {lead.Id}";
        }

        public async Task<string> CleanupAsync()
        {
            var lead = owner.Config.Sources[settings.LeadSource];
            if (lead.Provider == Capture.FormProvider.ProviderName)
            {
                await PostFormAsync(lead.Id, [new("email", email), new("consent_email", "no"), new("test_mode", "true")]);
            }
            else
            {
                await PostEventAsync($$$"""
                    {"type":"unsubscribe","source":"{{{lead.Id}}}","test_mode":true,"occurred_at":"{{{Observability.Iso.Utc(_time.GetUtcNow())}}}",
                     "subject":{"email":"{{{email}}}"},"consent":[{"channel":"email","granted":false}]}
                    """);
            }
            return await ConvergedAsync("the cleanup", s => s.Consent.Any(c => c.Channel == "email" && !c.Granted));
        }

        public async Task<string> PurchaseAsync()
        {
            var match = Match();
            if (settings.Mode == SmokeModes.Sandbox)
            {
                try
                {
                    (_paymentIntent, var detail) = await Payments().SandboxPurchaseAsync(Api(), Purchase(match), CancellationToken.None);
                    return detail;
                }
                catch (InvalidOperationException ex)
                {
                    throw new SmokeStepException(ex.Message);
                }
            }
            if (Providers.ProviderRegistry.Get(source.Provider).Simulated is { } payments)
            {
                var hook = payments.Paid(source, Purchase(match), _time.GetUtcNow());
                _paymentIntent = hook.OrderId;
                await PostHookAsync(hook);
                return $"signed test-mode {hook.Event} for {_paymentIntent} posted to /v1/hooks/{source.Id}";
            }
            await PostEventAsync($$$"""
                {"type":"order.paid","source":"{{{source.Id}}}","test_mode":true,"occurred_at":"{{{Observability.Iso.Utc(_time.GetUtcNow())}}}",
                 "subject":{"email":"{{{email}}}"},"attribution":{"utm_source":"junction-smoke","utm_campaign":"smoke"},
                 "order":{"order_id":"{{{OrderId}}}","amount":{{{Amount}}},"currency":"{{{settings.Currency}}}","items":[{"{{{ItemKey(match.Key)}}}":"{{{match.Value}}}","quantity":1,"amount":{{{Amount}}}}]}}
                """);
            return $"test-mode order.paid {OrderId} posted to the api source {source.Id}";
        }

        public async Task<string> RefundAsync()
        {
            var match = Match();
            if (settings.Mode == SmokeModes.Sandbox)
            {
                try
                {
                    return await Payments().SandboxRefundAsync(Api(), _paymentIntent!, Purchase(match) with { Metadata = new Dictionary<string, string>(StringComparer.Ordinal) { ["junction_smoke"] = run } },
                        CancellationToken.None);
                }
                catch (InvalidOperationException ex)
                {
                    throw new SmokeStepException(ex.Message);
                }
            }
            if (Providers.ProviderRegistry.Get(source.Provider).Simulated is { } payments)
            {
                var hook = payments.Refunded(source, Purchase(match), _time.GetUtcNow());
                await PostHookAsync(hook);
                return $"signed test-mode {hook.Event} for {_paymentIntent} posted to /v1/hooks/{source.Id}";
            }
            await PostEventAsync($$$"""
                {"type":"order.refunded","source":"{{{source.Id}}}","test_mode":true,"occurred_at":"{{{Observability.Iso.Utc(_time.GetUtcNow())}}}",
                 "subject":{"email":"{{{email}}}"},"order":{"order_id":"{{{OrderId}}}","refund_amount":{{{Amount}}},"fully_refunded":true,"currency":"{{{settings.Currency}}}"}}
                """);
            return $"test-mode order.refunded {OrderId} posted to the api source {source.Id}";
        }

        // The smoke purchase as the payment provider sees it: test mode, the product's match and the smoke attribution in its metadata.
        private Providers.SimulatedPurchase Purchase(KeyValuePair<string, string> match) => new()
        {
            Reference = $"smoke_{run}",
            Email = email,
            Amount = Amount,
            Currency = settings.Currency,
            Description = $"Junction smoke run {run}",
            Metadata = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["junction_smoke"] = run, [match.Key] = match.Value, ["utm_source"] = "junction-smoke", ["utm_campaign"] = "smoke",
            },
        };

        /// <summary>
        /// Waits until Junction's state for the smoke person satisfies <paramref name="expected"/> and
        /// nothing is left to deliver for them, then reads every state destination back until it
        /// holds what the state says Junction manages there (tags, courses, subscription).
        /// </summary>
        public async Task<string> ConvergedAsync(string what, Func<PersonState, bool> expected, bool lead = false)
        {
            var deadline = _time.GetUtcNow() + settings.StepTimeout;
            var (person, state) = await WaitForStateAsync(what, expected, deadline);
            await WaitForDeliveriesAsync(person, deadline);

            var identity = new PersonIdentity { Id = person.PersonId, FirstSeenAt = person.FirstSeenAt, PrimaryEmail = person.PrimaryEmail, PurchaseEmail = person.PurchaseEmail, Identifiers = [] };
            var checkedAt = new List<string>();
            foreach (var d in owner.Config.Destinations.Values.Where(d => d.IsState).OrderBy(d => d.Id, StringComparer.Ordinal))
            {
                if (DeliveryPlanner.Desired(d, identity, state) is not { } desired) continue;
                if (ReadBacks.Create(d, owner.Http.CreateClient(Dispatch.Destinations.DestinationConnectors.HttpClientName), _time) is not { } reader) continue;
                string? problem;
                while (true)
                {
                    var read = await reader.ReadAsync(owner.Audit.GateFor(d), CancellationToken.None);
                    problem = Mismatch(d, desired, read, lead);
                    if (problem is null || _time.GetUtcNow() >= deadline) break;
                    await Task.Delay(TimeSpan.FromSeconds(1), _time);
                }
                if (problem is not null) throw new SmokeStepException($"{what}: {d.Id} {problem}");
                checkedAt.Add(d.Id);
            }
            return checkedAt.Count == 0 ? $"{what} is in Junction's state (no state destination to read back)" : $"{what} read back at {string.Join(", ", checkedAt)}";
        }

        private static string? Mismatch(DestinationConfig d, DesiredContact desired, DestinationReadBack read, bool lead)
        {
            read.Contacts.TryGetValue(desired.Email, out var held);
            if (lead && read.CoversSubscriptions && held?.Status is not (ObservedStatus.Subscribed or ObservedStatus.Pending))
            {
                return $"does not hold the lead as subscribed (it says {held?.Status ?? "nothing of them"})";
            }
            var tags = held?.Tags.Keys.ToHashSet(StringComparer.Ordinal) ?? [];
            var managedTags = d.Tags.Values.ToHashSet(StringComparer.Ordinal);
            if (desired.Tags.FirstOrDefault(t => !tags.Contains(t)) is { } missing) return $"lacks the tag '{missing}'";
            if (tags.FirstOrDefault(t => managedTags.Contains(t) && !desired.Tags.Contains(t)) is { } extra) return $"still holds the tag '{extra}'";
            var courses = held?.Courses.Keys.ToHashSet(StringComparer.Ordinal) ?? [];
            var managedCourses = d.Courses.Values.ToHashSet(StringComparer.Ordinal);
            if (desired.Courses.FirstOrDefault(c => !courses.Contains(c)) is { } notEnrolled) return $"has no enrollment in course {notEnrolled}";
            if (courses.FirstOrDefault(c => managedCourses.Contains(c) && !desired.Courses.Contains(c)) is { } still) return $"still enrolls them in course {still}";
            if (!lead && read.CoversSubscriptions && desired.OptedOut && held?.Status is ObservedStatus.Subscribed or ObservedStatus.Pending)
            {
                return "still holds the contact as subscribed";
            }
            return null;
        }

        private async Task<(StoredPerson Person, PersonState State)> WaitForStateAsync(string what, Func<PersonState, bool> expected, DateTimeOffset deadline)
        {
            var key = IdentifierKey.Email(Canonical.Identifiers.NormalizeEmail(email)!);
            while (true)
            {
                if (await owner._store.FindPeopleAsync(key, CancellationToken.None) is [var id, ..]
                    && await owner._store.GetPersonAsync(id, CancellationToken.None) is { State: { } json } person)
                {
                    PersonId = person.PersonId;
                    var state = JsonSerializer.Deserialize<PersonState>(json, PersonState.JsonOptions)!;
                    if (expected(state)) return (person, state);
                }
                if (_time.GetUtcNow() >= deadline)
                {
                    throw new SmokeStepException(PersonId is null
                        ? $"{what} did not reach Junction within {Durations.Format(settings.StepTimeout)}"
                            + (settings.Mode == SmokeModes.Sandbox ? $" (is the payment provider's test-mode webhook endpoint set to /v1/hooks/{source.Id}?)" : "")
                        : $"{what} is not in Junction's state of the smoke person {PersonId} after {Durations.Format(settings.StepTimeout)}"
                            + (settings.Mode == SmokeModes.Sandbox ? " (did the payment provider's test-mode webhook reach Junction?)" : ""));
                }
                await Task.Delay(Poll, _time);
            }
        }

        private async Task WaitForDeliveriesAsync(StoredPerson person, DateTimeOffset deadline)
        {
            while (true)
            {
                var open = 0;
                foreach (var state in (string[])[DeliveryStates.Pending, DeliveryStates.InFlight, DeliveryStates.Held, DeliveryStates.Dead])
                {
                    var page = await owner._store.ListDeliveriesAsync(new DeliveryQuery(null, state, person.PersonId, 0, 20), CancellationToken.None);
                    if (state == DeliveryStates.Dead && page.Items.FirstOrDefault(i => owner.Config.Destinations.TryGetValue(i.Destination, out var d) && d.IsState) is { } dead)
                    {
                        throw new SmokeStepException($"the delivery to {dead.Destination} is dead: {dead.LastError ?? "no error recorded"}");
                    }
                    if (state == DeliveryStates.Held && page.Items is [var held, ..])
                    {
                        throw new SmokeStepException($"{held.Destination} is paused: its delivery is held");
                    }
                    if (state != DeliveryStates.Dead) open += page.Items.Count;
                }
                if (open == 0) return;
                if (_time.GetUtcNow() >= deadline) throw new SmokeStepException($"{open} deliveries for the smoke person still open after {Durations.Format(settings.StepTimeout)}");
                await Task.Delay(Poll, _time);
            }
        }

        private KeyValuePair<string, string> Match()
        {
            var product = owner.Config.Policy.Products.First(p => p.Id == settings.Product);
            var m = product.Match.First(m => m.Source == settings.Source);
            return m.Price is { } price ? new("price", price) : m.Product is { } p ? new("product", p) : new("sku", m.Sku!);
        }

        private static string ItemKey(string matchKey) => matchKey switch { "price" => "price_id", "product" => "product_id", _ => "sku" };

        private Providers.ISimulatedPayments Payments() =>
            Providers.ProviderRegistry.Get(source.Provider).Simulated ?? throw new SmokeStepException($"{source.Provider} purchases cannot be simulated");

        private Providers.ProviderApiClient Api() =>
            new(owner.Http.CreateClient(Normalize.Normalizer.HttpClientName), source,
                Providers.ProviderRegistry.Get(source.Provider).Api ?? throw new SmokeStepException($"{source.Provider} has no API client"), _time);

        // As JSON, the form endpoint answers JSON rather than 303 to the creator's thank-you page.
        private async Task PostFormAsync(string sourceId, IEnumerable<KeyValuePair<string, string>> fields)
        {
            var body = new System.Text.Json.Nodes.JsonObject();
            foreach (var (key, value) in fields) body[key] = value;
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/forms/{sourceId}")
            {
                Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
            };
            using var response = await junction.SendAsync(request);
            if (!response.IsSuccessStatusCode) throw new SmokeStepException($"POST /v1/forms/{sourceId} answered {(int)response.StatusCode}: {await Body(response)}");
        }

        private async Task PostEventAsync(string json)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/events") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", owner.Config.ApiKeys[0]);
            using var response = await junction.SendAsync(request);
            if (!response.IsSuccessStatusCode) throw new SmokeStepException($"POST /v1/events answered {(int)response.StatusCode}: {await Body(response)}");
        }

        private async Task PostHookAsync(Providers.SimulatedWebhook hook)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/hooks/{source.Id}") { Content = new ByteArrayContent(hook.Body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(hook.ContentType);
            foreach (var (name, value) in hook.Headers) request.Headers.TryAddWithoutValidation(name, value);
            using var response = await junction.SendAsync(request);
            if (!response.IsSuccessStatusCode) throw new SmokeStepException($"POST /v1/hooks/{source.Id} ({hook.Event}) answered {(int)response.StatusCode}: {await Body(response)}");
        }

        private static async Task<string> Body(HttpResponseMessage response)
        {
            var text = await response.Content.ReadAsStringAsync();
            return text.Length > 300 ? text[..300] : text;
        }
    }
}

/// <summary>A step that did not hold; its message says what was expected and what was seen.</summary>
public sealed class SmokeStepException(string message) : Exception(message);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower)]
[System.Text.Json.Serialization.JsonSerializable(typeof(List<SmokeStep>))]
public sealed partial class SmokeJson : System.Text.Json.Serialization.JsonSerializerContext;
