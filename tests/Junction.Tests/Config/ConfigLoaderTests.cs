using Junction.Config;

namespace Junction.Tests.Config;

public sealed class ConfigLoaderTests
{
    private const string StripeSecret = "whsec_live_3f9a0c1e7b2d4a68";

    private static Func<string, string?> Env(params (string Name, string Value)[] variables)
    {
        var map = variables.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal);
        return name => map.TryGetValue(name, out var value) ? value : null;
    }

    private static JunctionConfig Parse(string yaml, Func<string, string?>? environment = null) =>
        ConfigLoader.Parse(yaml, "/etc/junction/junction.yaml", environment ?? Env());

    private static IReadOnlyList<ConfigError> Errors(string yaml, Func<string, string?>? environment = null) =>
        Assert.Throws<ConfigException>(() => Parse(yaml, environment)).Errors;

    private static ConfigError SingleError(string yaml, Func<string, string?>? environment = null) =>
        Assert.Single(Errors(yaml, environment));

    [Fact]
    public void Parse_ReadsFullExample()
    {
        const string yaml = """
            storage: postgres:Host=db.internal;Port=5433;Username=junction;Password=hunter2;Database=junction
            admin:
              tokens:
                - "${ADMIN_TOKEN}"
                - second-admin-token-0123
            sources:
              stripe-main:
                provider: stripe
                secrets:
                  - "${STRIPE_SECRET}"
                  - whsec_previous_secret
                tolerance_seconds: 600
                max_body_bytes: 65536
                api_key: sk_test_abc
              shop_1:
                provider: shopify
                secrets: ["shopify-client-secret"]
              std:
                provider: standard-webhooks
                secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]
            """;

        var config = Parse(yaml, Env(("ADMIN_TOKEN", "tok-from-env-0123456789"), ("STRIPE_SECRET", StripeSecret)));

        Assert.Equal("postgres:Host=db.internal;Port=5433;Username=junction;Password=hunter2;Database=junction", config.Storage);
        Assert.Equal(["tok-from-env-0123456789", "second-admin-token-0123"], config.Admin.Tokens);
        Assert.Equal("/etc/junction/junction.yaml", config.Path);
        Assert.False(config.IsDemo);
        Assert.Equal(["shop_1", "std", "stripe-main"], config.Sources.Keys.Order(StringComparer.Ordinal));

        var stripe = config.Sources["stripe-main"];
        Assert.Equal("stripe-main", stripe.Id);
        Assert.Equal("stripe", stripe.Provider);
        Assert.Equal([StripeSecret, "whsec_previous_secret"], stripe.Secrets);
        Assert.Equal(600, stripe.ToleranceSeconds);
        Assert.Equal(65536, stripe.MaxBodyBytes);
        Assert.Equal("sk_test_abc", stripe.Option("api_key"));
        Assert.Null(stripe.Option("api_base_url"));

        var shop = config.Sources["shop_1"];
        Assert.Equal("shopify", shop.Provider);
        Assert.Equal(["shopify-client-secret"], shop.Secrets);
        Assert.Equal(300, shop.ToleranceSeconds);
        Assert.Equal(1_048_576, shop.MaxBodyBytes);

        Assert.Equal("standard-webhooks", config.Sources["std"].Provider);
    }

    [Fact]
    public void Parse_DefaultsStorageAndAdminTokens_WhenAbsent()
    {
        const string yaml = """
            sources:
              s:
                provider: shopify
                secrets: [x]
            """;

        var config = Parse(yaml);

        Assert.Equal(ConfigLoader.DefaultStorage, config.Storage);
        Assert.Empty(config.Admin.Tokens);
    }

    [Fact]
    public void Parse_SubstitutesEnvironmentVariablesInsideStrings()
    {
        const string yaml = """
            storage: "sqlite:${DATA_DIR}/junction.db"
            sources:
              s:
                provider: shopify
                secrets: ["${PREFIX}-${SUFFIX}", "$NOT_A_REFERENCE"]
                tolerance_seconds: "${TOL}"
            """;

        var config = Parse(yaml, Env(("DATA_DIR", "/var/lib/junction"), ("PREFIX", "abc"), ("SUFFIX", "xyz"), ("TOL", "42")));

        Assert.Equal("sqlite:/var/lib/junction/junction.db", config.Storage);
        Assert.Equal(["abc-xyz", "$NOT_A_REFERENCE"], config.Sources["s"].Secrets);
        Assert.Equal(42, config.Sources["s"].ToleranceSeconds);
    }

    [Fact]
    public void Parse_MissingEnvironmentVariable_IsReportedAtItsKeyPath()
    {
        const string yaml = """
            sources:
              s1:
                provider: shopify
                secrets: [ok]
              s2:
                provider: shopify
                secrets:
                  - "${ACC_X}"
            """;

        var error = SingleError(yaml);

        Assert.Equal("sources.s2.secrets[0]: environment variable ACC_X is not set", error.ToString());
    }

    [Fact]
    public void Parse_EnvironmentVariableSetToEmpty_IsReportedAsEmptySecret()
    {
        const string yaml = """
            sources:
              s:
                provider: shopify
                secrets: ["${EMPTY}"]
            """;

        var error = SingleError(yaml, Env(("EMPTY", "")));

        Assert.Equal("sources.s.secrets[0]", error.Path);
        Assert.Contains("non-empty", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_JunctionStorageVariable_OverridesStorageKey()
    {
        const string yaml = """
            storage: sqlite:./from-file.db
            sources:
              s:
                provider: shopify
                secrets: [x]
            """;

        var config = Parse(yaml, Env(("JUNCTION_STORAGE", "postgres:Host=override;Database=j")));

        Assert.Equal("postgres:Host=override;Database=j", config.Storage);
    }

    [Fact]
    public void Parse_InvalidJunctionStorageVariable_IsReportedUnderTheVariableName()
    {
        const string yaml = """
            storage: sqlite:./fine.db
            sources:
              s:
                provider: shopify
                secrets: [x]
            """;

        var error = SingleError(yaml, Env(("JUNCTION_STORAGE", "mysql://localhost")));

        Assert.Equal("JUNCTION_STORAGE", error.Path);
        Assert.Contains("sqlite:PATH", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ReportsEveryErrorWithItsKeyPath()
    {
        const string yaml = """
            storage: mysql:localhost
            colour: blue
            sources:
              s1:
                provider: paypal-classic
                secrets: [x]
              s2:
                provider: shopify
                secrets: [x]
                tolerance_seconds: 0
            """;

        var errors = Errors(yaml);

        Assert.Equal(
            ["colour", "sources.s1.provider", "sources.s2.tolerance_seconds", "storage"],
            errors.Select(e => e.Path).Order(StringComparer.Ordinal));
        var message = Assert.Throws<ConfigException>(() => Parse(yaml)).Message;
        Assert.Equal(4, message.Split(Environment.NewLine).Length);
    }

    [Fact]
    public void Parse_ReportsUnknownTopLevelKey()
    {
        const string yaml = """
            sorage: sqlite:./x.db
            sources:
              s:
                provider: shopify
                secrets: [x]
            """;

        var error = SingleError(yaml);

        Assert.Equal("sorage", error.Path);
        Assert.Equal("unknown key; expected one of storage, admin, api_keys, metrics, sources, tags, products, ownership, identity, lifecycle, destinations, audits, smoke, alerts, notifiers, runbooks, telemetry", error.Message);
    }

    [Fact]
    public void Parse_ReportsUnknownSourceKeyWithPath()
    {
        const string yaml = """
            sources:
              stripe-main:
                provider: stripe
                secrets: [whsec_x]
                tolerance: 60
            """;

        var error = SingleError(yaml);

        Assert.Equal("sources.stripe-main.tolerance", error.Path);
        Assert.StartsWith("unknown key; expected one of provider, secrets, tolerance_seconds, max_body_bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ReportsOptionOfAnotherProviderAsUnknown()
    {
        // standard-webhooks has no api_key option.
        const string yaml = """
            sources:
              std:
                provider: standard-webhooks
                secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]
                api_key: sk_test
            """;

        Assert.Equal("sources.std.api_key", SingleError(yaml).Path);
    }

    [Fact]
    public void Parse_ReportsUnknownAdminKey()
    {
        const string yaml = """
            admin:
              token: abc
            sources:
              s:
                provider: shopify
                secrets: [x]
            """;

        Assert.Equal("admin.token", SingleError(yaml).Path);
    }

    [Fact]
    public void Parse_UnknownProvider_ListsTheValidOnes()
    {
        const string yaml = """
            sources:
              s:
                provider: Stripe
                secrets: [whsec_x]
            """;

        var error = SingleError(yaml);

        Assert.Equal("sources.s.provider", error.Path);
        Assert.Contains("stripe", error.Message, StringComparison.Ordinal);
        Assert.Contains("shopify", error.Message, StringComparison.Ordinal);
        Assert.Contains("standard-webhooks", error.Message, StringComparison.Ordinal);
        Assert.Contains("got 'Stripe'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MissingProvider_ListsTheValidOnes()
    {
        const string yaml = """
            sources:
              s:
                secrets: [x]
            """;

        var error = SingleError(yaml);

        Assert.Equal("sources.s.provider", error.Path);
        Assert.Contains("required", error.Message, StringComparison.Ordinal);
        Assert.Contains("standard-webhooks", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("mysql:localhost")]
    [InlineData("sqlite:")]
    [InlineData("postgres:")]
    [InlineData("./data/junction.db")]
    [InlineData("SQLITE:./x.db")]
    public void Parse_ReportsBadStorageScheme(string storage)
    {
        var yaml = $"""
            storage: "{storage}"
            sources:
              s:
                provider: shopify
                secrets: [x]
            """;

        var error = SingleError(yaml);

        Assert.Equal("storage", error.Path);
        Assert.Contains("postgres:CONNECTION STRING", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tolerance_seconds", "0", "1 to 86400")]
    [InlineData("tolerance_seconds", "86401", "1 to 86400")]
    [InlineData("tolerance_seconds", "-5", "1 to 86400")]
    [InlineData("tolerance_seconds", "five", "1 to 86400")]
    [InlineData("tolerance_seconds", "1.5", "1 to 86400")]
    [InlineData("max_body_bytes", "0", "1 to 67108864")]
    [InlineData("max_body_bytes", "67108865", "1 to 67108864")]
    [InlineData("max_body_bytes", "99999999999999", "1 to 67108864")]
    public void Parse_ReportsNumberOutOfRange(string key, string value, string range)
    {
        var yaml = $"""
            sources:
              s:
                provider: shopify
                secrets: [x]
                {key}: {value}
            """;

        var error = SingleError(yaml);

        Assert.Equal($"sources.s.{key}", error.Path);
        Assert.Contains(range, error.Message, StringComparison.Ordinal);
        Assert.Contains($"got '{value}'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1", 1)]
    [InlineData("86400", 86_400)]
    public void Parse_AcceptsToleranceAtItsBounds(string value, int expected)
    {
        var yaml = $"""
            sources:
              s:
                provider: shopify
                secrets: [x]
                tolerance_seconds: {value}
            """;

        Assert.Equal(expected, Parse(yaml).Sources["s"].ToleranceSeconds);
    }

    [Fact]
    public void Parse_ReportsEmptySecretsList()
    {
        const string yaml = """
            sources:
              s:
                provider: shopify
                secrets: []
            """;

        var error = SingleError(yaml);

        Assert.Equal("sources.s.secrets", error.Path);
        Assert.Contains("at least one", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ReportsMissingSecrets()
    {
        const string yaml = """
            sources:
              s:
                provider: shopify
            """;

        Assert.Equal("sources.s.secrets", SingleError(yaml).Path);
    }

    [Fact]
    public void Parse_ReportsSecretsGivenAsAString()
    {
        const string yaml = """
            sources:
              s:
                provider: shopify
                secrets: just-one
            """;

        var error = SingleError(yaml);

        Assert.Equal("sources.s.secrets", error.Path);
        Assert.Contains("list", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ReportsNonStringSecretItemAtItsIndex()
    {
        const string yaml = """
            sources:
              s:
                provider: shopify
                secrets:
                  - ok
                  - [nested]
            """;

        Assert.Equal("sources.s.secrets[1]", SingleError(yaml).Path);
    }

    [Fact]
    public void Parse_ReportsStripeSecretWithoutWhsecPrefix()
    {
        const string yaml = """
            sources:
              x:
                provider: stripe
                secrets: ["sk_live_notawebhooksecret"]
            """;

        var error = SingleError(yaml);

        Assert.Equal("sources.x.secrets[0]", error.Path);
        Assert.Contains("whsec_", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sk_live_notawebhooksecret", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ReportsBadSecretAtItsOwnIndex()
    {
        const string yaml = """
            sources:
              x:
                provider: stripe
                secrets: ["whsec_good", "sk_live_bad"]
            """;

        Assert.Equal("sources.x.secrets[1]", SingleError(yaml).Path);
    }

    [Fact]
    public void Parse_ReportsBadSecretAtItsOwnIndex_AfterAnUnsetVariable()
    {
        // Regression: a skipped list item (unset ${VAR}) shifted the index reported for the next bad secret.
        const string yaml = """
            sources:
              x:
                provider: stripe
                secrets: ["${UNSET_SECRET}", "sk_live_bad"]
            """;

        var errors = Errors(yaml);

        Assert.Equal(["sources.x.secrets[0]", "sources.x.secrets[1]"], errors.Select(e => e.Path).Order(StringComparer.Ordinal));
        Assert.Contains(errors, e => e.Path == "sources.x.secrets[1]" && e.Message.Contains("whsec_", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_ReportsStandardWebhooksSecretThatIsNotBase64()
    {
        const string yaml = """
            sources:
              std:
                provider: standard-webhooks
                secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not*base64"]
            """;

        var error = SingleError(yaml);

        Assert.Equal("sources.std.secrets[1]", error.Path);
        Assert.DoesNotContain("not*base64", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_InvalidYaml_GivesLineAndColumn()
    {
        const string yaml = """
            storage: sqlite:./x.db
            sources:
              s:
                provider: "shopify
            """;

        var error = SingleError(yaml);

        Assert.Equal("config", error.Path);
        Assert.Matches(@"^not valid YAML at line \d+, column \d+: ", error.Message);
    }

    [Fact]
    public void Parse_InvalidYaml_PointsAtTheOffendingLine()
    {
        const string yaml = "storage: sqlite:./x.db\nsources:\n  s: [unclosed\n";

        var error = SingleError(yaml);

        Assert.Matches(@"^not valid YAML at line [34], column \d+", error.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("# only a comment\n")]
    [InlineData("- a\n- b\n")]
    [InlineData("just a string")]
    public void Parse_NonMappingDocument_IsAnErrorNotACrash(string yaml)
    {
        Assert.Equal("config", SingleError(yaml).Path);
    }

    [Fact]
    public void Parse_ReportsMissingSources()
    {
        Assert.Equal("sources", SingleError("storage: sqlite:./x.db\n").Path);
    }

    [Fact]
    public void Parse_ReportsSourcesThatIsNotAMapping()
    {
        Assert.Equal("sources", SingleError("sources: [a, b]\n").Path);
    }

    [Fact]
    public void Parse_ReportsAdminThatIsNotAMapping()
    {
        const string yaml = """
            admin: secret-token
            sources:
              s:
                provider: shopify
                secrets: [x]
            """;

        Assert.Equal("admin", SingleError(yaml).Path);
    }

    [Theory]
    [InlineData("Stripe-Main")]
    [InlineData("-leading-dash")]
    [InlineData("has.dot")]
    public void Parse_ReportsInvalidSourceId(string id)
    {
        var yaml = $"""
            sources:
              "{id}":
                provider: shopify
                secrets: [x]
            """;

        var error = SingleError(yaml);

        Assert.Equal($"sources.{id}", error.Path);
        Assert.Contains("a-z, 0-9", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ReportsSourceThatIsNotAMapping()
    {
        const string yaml = """
            sources:
              s: stripe
            """;

        Assert.Equal("sources.s", SingleError(yaml).Path);
    }

    [Fact]
    public void Parse_DuplicateKey_IsAConfigErrorNotACrash()
    {
        const string yaml = """
            sources:
              s:
                provider: shopify
                secrets: [x]
              s:
                provider: stripe
                secrets: [whsec_x]
            """;

        var error = SingleError(yaml);

        Assert.Equal("config", error.Path);
    }

    [Fact]
    public void Parse_NonScalarSourceId_IsAConfigErrorNotACrash()
    {
        // Regression: a non-string source id crashed the loader with InvalidCastException.
        const string yaml = """
            sources:
              ? [a, b]
              : provider: shopify
                secrets: [x]
            """;

        var error = SingleError(yaml);

        Assert.StartsWith("sources", error.Path, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadFile_ReadsTempFileAndRecordsItsPath()
    {
        var path = Path.Combine(Path.GetTempPath(), $"junction-config-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, """
            storage: sqlite:./x.db
            sources:
              s:
                provider: shopify
                secrets: ["${S}"]
            """);
        try
        {
            var config = ConfigLoader.LoadFile(path, Env(("S", "from-env")));

            Assert.Equal(path, config.Path);
            Assert.Equal(["from-env"], config.Sources["s"].Secrets);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void LoadFile_MissingFile_IsAConfigError()
    {
        var path = Path.Combine(Path.GetTempPath(), $"junction-missing-{Guid.NewGuid():N}", "junction.yaml");

        var error = Assert.Single(Assert.Throws<ConfigException>(() => ConfigLoader.LoadFile(path, Env())).Errors);

        Assert.Equal("config", error.Path);
        Assert.Contains("cannot read", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AdminTokens_ShorterThan16Characters_AreErrorsNamingTheirIndex()
    {
        var errors = Errors("""
            admin:
              tokens: ["long-enough-admin-token", "short", "${SHORT_ADMIN}"]
            sources:
              s:
                provider: stripe
                secrets: ["whsec_x"]
            """, Env(("SHORT_ADMIN", "0123456789abcde")));

        Assert.Equal(["admin.tokens[1]", "admin.tokens[2]"], errors.Select(e => e.Path));
        Assert.All(errors, e => Assert.Contains("at least 16 characters", e.Message, StringComparison.Ordinal));
        Assert.All(errors, e => Assert.DoesNotContain("0123456789abcde", e.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void MetricsToken_IsReadFromTheEnvironment_AndMustHave16Characters()
    {
        const string yaml = """
            metrics:
              token: "${METRICS_TOKEN}"
            sources:
              s:
                provider: stripe
                secrets: ["whsec_x"]
            """;

        Assert.Equal("metrics-token-0123456789", Parse(yaml, Env(("METRICS_TOKEN", "metrics-token-0123456789"))).MetricsToken);
        Assert.Null(Parse(yaml.Replace("metrics:\n  token: \"${METRICS_TOKEN}\"\n", "", StringComparison.Ordinal)).MetricsToken);
        var error = Assert.Single(Errors(yaml, Env(("METRICS_TOKEN", "short"))));
        Assert.Equal("metrics.token", error.Path);
        Assert.Contains("at least 16 characters", error.Message, StringComparison.Ordinal);
    }
}
