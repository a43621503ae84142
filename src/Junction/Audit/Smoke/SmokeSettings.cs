namespace Junction.Audit;

/// <summary>
/// The <c>smoke:</c> section: a synthetic lead → purchase → refund that <c>junction smoke</c> drives
/// end to end (R6.3). Validated by the config loader: the source owns money and can be driven, the
/// product is matched on it, the lead has a form (or api) source to go through.
/// </summary>
public sealed record SmokeSettings
{
    public const string DefaultEmail = "smoke+{run}@example.com";

    /// <summary>How often a scheduled run happens (default daily); null: on demand only (<c>schedule: off</c>).</summary>
    public TimeSpan? Schedule { get; init; } = TimeSpan.FromHours(24);

    /// <summary>The payment source the synthetic purchase comes from.</summary>
    public required string Source { get; init; }

    /// <summary>The product it buys (its paid tags and courses are what the run checks).</summary>
    public required string Product { get; init; }

    /// <summary>The smoke person's address; <c>{run}</c> becomes the run's id, so every run is a new person.</summary>
    public string Email { get; init; } = DefaultEmail;

    /// <summary>The form (or api) source the lead is posted to; resolved by the loader.</summary>
    public required string LeadSource { get; init; }

    /// <summary><see cref="SmokeModes"/>: sandbox (the provider's test-mode API) or synthetic (a signed test event posted to Junction).</summary>
    public required string Mode { get; init; }

    /// <summary>How long each step may take to reach every tool.</summary>
    public TimeSpan StepTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Where <c>junction serve</c> answers, for <c>junction smoke</c> run from a shell (serve uses its own address).</summary>
    public Uri Url { get; init; } = new(Cli.JunctionCli.DefaultUrls);

    /// <summary>Minor units of the synthetic purchase (payment APIs refuse tiny charges: 50 cents is a common floor).</summary>
    public long Amount { get; init; } = 100;

    public string Currency { get; init; } = "usd";
}

public static class SmokeModes
{
    /// <summary>Through the payment provider's test mode (<see cref="Providers.ISimulatedPayments"/>): a real test purchase and refund; its own webhooks come back.</summary>
    public const string Sandbox = "sandbox";

    /// <summary>A correctly signed test-mode event posted to Junction's own intake.</summary>
    public const string Synthetic = "synthetic";
}
