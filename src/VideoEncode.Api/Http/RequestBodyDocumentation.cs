using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace VideoEncode.Api.Http;

/// <summary>
/// Documents a JSON request body that the handler reads itself. (Accepts&lt;T&gt;() would do it
/// too, but it also makes routing refuse other Content-Types with 415, and the original service
/// took JSON sent as curl's default form encoding.)
/// </summary>
/// <param name="Types">The accepted shapes; more than one becomes oneOf.</param>
public sealed record RequestBodyDocumentation(params Type[] Types);

internal sealed class RequestBodyDocumentationFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var documented = context.ApiDescription.ActionDescriptor.EndpointMetadata
            .OfType<RequestBodyDocumentation>().FirstOrDefault();
        if (documented is null) return;
        var schemas = documented.Types
            .Select(type => context.SchemaGenerator.GenerateSchema(type, context.SchemaRepository))
            .ToList();
        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Content = new Dictionary<string, IOpenApiMediaType>
            {
                ["application/json"] = new OpenApiMediaType { Schema = schemas.Count == 1 ? schemas[0] : new OpenApiSchema { OneOf = schemas } },
            },
        };
    }
}
