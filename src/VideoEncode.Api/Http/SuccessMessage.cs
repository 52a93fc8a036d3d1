namespace VideoEncode.Api.Http;

/// <summary>The original service's success shape, {"message": "..."}.</summary>
public sealed record SuccessMessage(string Message);
