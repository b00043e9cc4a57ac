"""Writes through services for ViewSets: the view validates the input with its serializer, a
service does the write, the view answers with the serializer's rendering of what the service
returned. `serializer.save()` is never called, so no serializer holds a business rule."""

from rest_framework import status
from rest_framework.response import Response


class ServiceCreateMixin:
    """`create` (POST) for a view that implements `create_object(validated_data)`."""

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance = self.create_object(serializer.validated_data)
        return Response(self.get_serializer(instance).data, status=status.HTTP_201_CREATED)

    def create_object(self, validated_data):
        raise NotImplementedError


class ServiceUpdateMixin:
    """`update` (PUT, and PATCH with partial=True) for a view that implements
    `update_object(instance, validated_data)`."""

    def update(self, request, *args, partial=False, **kwargs):
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        instance = self.update_object(serializer.instance, serializer.validated_data)
        return Response(self.get_serializer(instance).data)

    def update_object(self, instance, validated_data):
        raise NotImplementedError
