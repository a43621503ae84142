using Junction.Config;
using Junction.State;
using Junction.Storage;

namespace Junction.Audit;

/// <summary>One line of the pre-launch checklist: ✓ or ✗, and for ✗ the fix.</summary>
public sealed record CheckItem(string Check, bool Ok, string Detail, string? Fix = null);

/// <summary>
/// The pre-launch checklist (R6.4), dry run: the configuration, every payment source's API
/// credentials (one listing call), every state destination's credentials and mapped tags and
/// courses (its audit read-back), products a money source can grant, a form source for the
/// landing-page snippet, and no destination left paused. Read-only: it changes nothing anywhere.
/// </summary>
public sealed class Checklist(JunctionConfig config, IJunctionStore store, IHttpClientFactory http, TimeProvider time, PaymentReadBacks payments)
{
    public async Task<IReadOnlyList<CheckItem>> RunAsync(IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var items = new List<CheckItem>
        {
            new("config", true, $"{config.Path}: {config.Sources.Count} sources, {config.Destinations.Count} destinations, {config.Policy.Products.Count} products"),
        };

        foreach (var source in payments.Readable())
        {
            progress?.Report($"checking the API credentials of {source.Id}");
            try
            {
                // The shortest listing there is: one authenticated call, nothing stored.
                await payments.ReadAsync(source, time.GetUtcNow().AddMinutes(-1), cancellationToken);
                items.Add(new($"source {source.Id}: API credentials", true, $"the {source.Provider} API answered"));
            }
            catch (ReadBackException ex)
            {
                items.Add(new($"source {source.Id}: API credentials", false, ex.Message, $"check sources.{source.Id}'s API key (or client_id/client_secret) and api_base_url"));
            }
        }

        foreach (var d in config.Destinations.Values.Where(d => d.IsState).OrderBy(d => d.Id, StringComparer.Ordinal))
        {
            if (ReadBacks.Create(d, http.CreateClient(Dispatch.Destinations.DestinationConnectors.HttpClientName), time) is not { } reader)
            {
                items.Add(new($"destination {d.Id}: credentials", false, $"type {d.Type} has no read-back to check it with"));
                continue;
            }
            progress?.Report($"reading back {d.Id}");
            try
            {
                var read = await reader.ReadAsync(_ => ValueTask.CompletedTask, cancellationToken);
                items.Add(new($"destination {d.Id}: credentials", true, $"{read.Contacts.Count} contacts read in {read.ApiCalls} calls"));
                items.Add(read.Missing.Count == 0
                    ? new($"destination {d.Id}: mapped tags and courses", true, "every one exists")
                    : new($"destination {d.Id}: mapped tags and courses", false, "missing: " + string.Join(", ", read.Missing),
                        $"create them in {d.Type}, or fix destinations.{d.Id}.tags / courses"));
            }
            catch (ReadBackException ex)
            {
                items.Add(new($"destination {d.Id}: credentials", false, ex.Message, $"check destinations.{d.Id}.credentials and base_url"));
            }
        }

        foreach (var product in config.Policy.Products)
        {
            var money = product.Match.Where(m => config.Sources.TryGetValue(m.Source, out var s) && config.Policy.Ownership.MayWrite(Ownership.Money, m.Source, s.Provider))
                .Select(m => m.Source).Distinct(StringComparer.Ordinal).ToList();
            items.Add(money.Count > 0
                ? new($"product {product.Id}", true, "granted by payments from " + string.Join(", ", money))
                : new($"product {product.Id}", false, "no match on a source that owns money: only a course platform's access events grant it",
                    $"add a match on a payment source to products.{product.Id}.match"));
        }

        var forms = config.Sources.Values.Where(s => s.Provider == Capture.FormProvider.ProviderName).Select(s => s.Id).Order(StringComparer.Ordinal).ToList();
        items.Add(forms.Count > 0 && Capture.Snippet.Text(false).Length > 0
            ? new("landing pages", true, $"GET /v1/snippet.js is served; form sources: {string.Join(", ", forms)}")
            : new("landing pages", false, "no form source: landing-page opt-ins and their UTM attribution have nowhere to go",
                "add a source with provider: form (README, \"Landing pages\")"));

        var paused = (await store.ListDestinationControlAsync(cancellationToken)).Where(c => c.Paused && config.Destinations.ContainsKey(c.Destination)).ToList();
        items.Add(paused.Count == 0
            ? new("destinations", true, "none paused")
            : new("destinations", false, "paused: " + string.Join(", ", paused.Select(p => p.Reason is null ? p.Destination : $"{p.Destination} ({p.Reason})")),
                "junction resume <destination> once it should deliver again"));
        return items;
    }
}
