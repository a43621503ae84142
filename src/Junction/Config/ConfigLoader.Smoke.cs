using Junction.Audit;
using Junction.State;
using YamlDotNet.RepresentationModel;

namespace Junction.Config;

/// <summary><c>smoke:</c> — what <c>junction smoke</c> buys, from where, how often. Errors name their key path.</summary>
public static partial class ConfigLoader
{
    private static readonly string[] SmokeKeys = ["schedule", "source", "product", "email", "lead_source", "mode", "step_timeout", "url", "amount", "currency"];

    private static SmokeSettings? ReadSmoke(Reader reader, YamlMappingNode root, IReadOnlyDictionary<string, SourceConfig> sources, Policy policy)
    {
        var node = Reader.Child(root, "smoke");
        if (node is null) return null;
        if (node is not YamlMappingNode map)
        {
            reader.Error("smoke", "expected a mapping with source, product and optionally schedule, email, lead_source, mode");
            return null;
        }
        reader.RejectUnknownKeys(map, "smoke", SmokeKeys);
        var errors = reader.Errors.Count;

        var sourceId = reader.OptionalString(map, "source", "smoke.source");
        SourceConfig? source = null;
        if (sourceId is null) reader.Error("smoke.source", "required; expected the payment source the synthetic purchase comes from");
        else if (!sources.TryGetValue(sourceId, out source)) reader.Error("smoke.source", $"expected a source id from sources:; got '{sourceId}'");
        else if (!policy.Ownership.MayWrite(Ownership.Money, source.Id, source.Provider))
        {
            reader.Error("smoke.source", $"sources.{sourceId} does not own money (ownership:), so its purchase would grant nothing");
        }

        var productId = reader.OptionalString(map, "product", "smoke.product");
        if (productId is null) reader.Error("smoke.product", "required; expected a product id from products:");
        else if (policy.Products.FirstOrDefault(p => p.Id == productId) is not { } product) reader.Error("smoke.product", $"expected a product id from products:; got '{productId}'");
        else if (sourceId is not null && !product.Match.Any(m => m.Source == sourceId))
        {
            reader.Error("smoke.product", $"products.{productId} has no match on {sourceId}: add one (price, product or sku) so the synthetic purchase grants it");
        }

        var email = reader.OptionalString(map, "email", "smoke.email") ?? SmokeSettings.DefaultEmail;
        if (!email.Contains("{run}", StringComparison.Ordinal) || Canonical.Identifiers.NormalizeEmail(email.Replace("{run}", "r1", StringComparison.Ordinal)) is null)
        {
            reader.Error("smoke.email", $"expected an address with {{run}} in it, e.g. \"smoke+{{run}}@creator.example\"; got '{Observability.Pii.MaskEmail(email)}'");
        }

        var leadId = reader.OptionalString(map, "lead_source", "smoke.lead_source")
            ?? sources.Values.Where(s => s.Provider == Capture.FormProvider.ProviderName).Select(s => s.Id).Order(StringComparer.Ordinal).FirstOrDefault()
            ?? sources.Values.Where(s => s.Provider == Capture.ApiProvider.ProviderName).Select(s => s.Id).Order(StringComparer.Ordinal).FirstOrDefault();
        if (leadId is null) reader.Error("smoke.lead_source", "the synthetic lead needs a form source (or an api source): add one, or name it here");
        else if (!sources.TryGetValue(leadId, out var lead) || lead.Provider is not (Capture.FormProvider.ProviderName or Capture.ApiProvider.ProviderName))
        {
            reader.Error("smoke.lead_source", $"expected a source with provider form or api; got '{leadId}'");
        }

        var mode = reader.OptionalString(map, "mode", "smoke.mode") ?? "auto";
        var payments = source is not null && Providers.ProviderRegistry.TryGet(source.Provider, out var provider) ? provider.Simulated : null;
        var refusal = source is null ? null
            : payments is null ? $"sources.{source.Id} is {source.Provider}, whose purchases Junction cannot make in a test mode: use mode: synthetic"
            : payments.SandboxRefusal(source);
        switch (mode)
        {
            case "auto":
                mode = source is not null && refusal is null ? SmokeModes.Sandbox : SmokeModes.Synthetic;
                break;
            case SmokeModes.Sandbox when refusal is not null:
                reader.Error("smoke.mode", refusal);
                break;
            case SmokeModes.Sandbox or SmokeModes.Synthetic:
                break;
            default:
                reader.Error("smoke.mode", $"expected auto, sandbox or synthetic; got '{mode}'");
                break;
        }
        if (mode == SmokeModes.Synthetic && source is not null && payments is null && source.Provider != Capture.ApiProvider.ProviderName)
        {
            var simulated = Providers.ProviderRegistry.All.Where(p => p.Simulated is not null).Select(p => p.Name).Append(Capture.ApiProvider.ProviderName);
            reader.Error("smoke.source", $"a synthetic purchase is built for {string.Join(" and ", simulated)} sources; sources.{source.Id} is {source.Provider}");
        }

        var settings = new SmokeSettings { Source = sourceId ?? "", Product = productId ?? "", Email = email, LeadSource = leadId ?? "", Mode = mode };
        switch (reader.OptionalString(map, "schedule", "smoke.schedule"))
        {
            case null:
                break;
            case "off":
                settings = settings with { Schedule = null };
                break;
            default:
                if (ReadDuration(reader, map, "schedule", "smoke.schedule") is { } every) settings = settings with { Schedule = every };
                break;
        }
        if (ReadDuration(reader, map, "step_timeout", "smoke.step_timeout") is { } timeout) settings = settings with { StepTimeout = timeout };
        if (reader.OptionalString(map, "url", "smoke.url") is { } url)
        {
            if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https") settings = settings with { Url = uri };
            else reader.Error("smoke.url", $"expected Junction's http(s) address, e.g. http://127.0.0.1:5080; got '{url}'");
        }
        if (reader.OptionalString(map, "amount", "smoke.amount") is { } amount)
        {
            if (long.TryParse(amount, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var minor) && minor > 0) settings = settings with { Amount = minor };
            else reader.Error("smoke.amount", $"expected a positive whole number of minor units (100 = 1.00); got '{amount}'");
        }
        if (reader.OptionalString(map, "currency", "smoke.currency") is { } currency)
        {
            if (currency.Length == 3 && currency.All(char.IsAsciiLetter)) settings = settings with { Currency = currency.ToLowerInvariant() };
            else reader.Error("smoke.currency", $"expected a three-letter ISO currency code such as usd; got '{currency}'");
        }
        return reader.Errors.Count > errors ? null : settings;
    }
}
