using System.Text;
using Junction.Canonical;
using Junction.Integrations.Shopify;
using Junction.Normalize;
using Junction.Tests.Providers.Payments;
using Junction.Tests.Support;

namespace Junction.Tests.Fuzz;

/// <summary>Inputs the fuzz run found that made a mapper or the normalizer throw, each pinned down.</summary>
public sealed class FuzzRegressionTests
{
    [Theory]
    [InlineData("99999999999999999999", "USD")]
    [InlineData("-99999999999999999999", "USD")]
    [InlineData("92233720368547758.08", "USD")]
    [InlineData("9223372036854775808", "JPY")]
    [InlineData("79228162514264337593543950335", "BHD")]
    public void Money_FromMajor_AnAmountBeyondALongInMinorUnits_IsNotAnAmount_RatherThanAnOverflow(string amount, string currency) =>
        Assert.Null(Money.FromMajor(amount, currency));

    [Fact]
    public void Money_FromMajor_TheLargestAmountThatFits_StillConverts() =>
        Assert.Equal(9_223_372_036_854_775_806, Money.FromMajor("92233720368547758.06", "USD"));

    [Fact]
    public void ShopifyOrder_WithATotalPriceOfTwentyNines_MapsWithoutAnAmount_InsteadOfTheMapperThrowing()
    {
        var body = Encoding.UTF8.GetString(Payloads.ShopifyOrderPaid(4242)).Replace("\"total_price\":\"49.00\"", "\"total_price\":\"99999999999999999999\"", StringComparison.Ordinal);
        Assert.Contains("99999999999999999999", body, StringComparison.Ordinal);
        var raw = PaymentsKit.Raw("shopify", body, headers: new Dictionary<string, string> { ["x-shopify-topic"] = "orders/paid" });

        var result = new ShopifyProvider().Mapper.Map(raw);

        var paid = Assert.Single(Assert.IsType<MapResult.Mapped>(result).Events);
        Assert.Null(paid.Order!.Amount);
    }
}
